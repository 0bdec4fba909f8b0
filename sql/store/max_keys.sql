SELECT
    coalesce((SELECT max(report_key) FROM reports), 0),
    coalesce((SELECT max(reject_key) FROM rejects), 0),
    coalesce((SELECT max(run_id) FROM ingest_runs), 0),
    coalesce((SELECT max(report_key) FROM tls_reports), 0),
    coalesce((SELECT max(report_key) FROM failure_reports), 0)
