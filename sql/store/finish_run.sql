UPDATE ingest_runs SET
    finished_at = now()::TIMESTAMP,
    status = ?,
    n_payloads = ?,
    n_reports_new = ?,
    n_duplicates = ?,
    n_conflicts = ?,
    n_rejects = ?,
    n_other = ?,
    n_records = ?,
    n_messages = ?,
    bytes_read = ?,
    duration_ms = ?
WHERE run_id = ?
