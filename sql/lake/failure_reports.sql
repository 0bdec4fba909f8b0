-- Dataset `failure_reports`: one row per failure report (without the original's body or the
-- report mail, which are kept only in the database and only when configured).
SELECT k.report_identity, CAST(coalesce(r.arrival_date, r.ingested_at) AS DATE) AS day,
       r.* EXCLUDE (original_body_gz, raw_gz)
FROM failure_reports r
JOIN lake_keys k ON k.kind = 'failure' AND k.report_key = r.report_key
