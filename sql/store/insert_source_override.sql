INSERT INTO source_overrides (policy_domain, sender, authorized) VALUES (?, ?, ?)
