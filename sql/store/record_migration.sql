INSERT INTO schema_version (version, applied_at, rua_version) VALUES (?, now()::TIMESTAMP, ?)
