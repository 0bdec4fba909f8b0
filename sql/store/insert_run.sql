INSERT INTO ingest_runs (run_id, command, rua_version, started_at, status)
VALUES (?, ?, ?, now()::TIMESTAMP, 'running')
