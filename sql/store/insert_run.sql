-- A run's row, once it first writes (or at its end, with its outcome, in one transaction):
-- run_id, command, rua_version, and when it started (microseconds since the epoch).
INSERT INTO ingest_runs (run_id, command, rua_version, started_at, status)
VALUES (?, ?, ?, make_timestamp(?), 'running')
