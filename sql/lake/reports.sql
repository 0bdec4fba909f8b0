-- Dataset `reports`: one row per aggregate report (without its kept XML).
SELECT k.report_identity, CAST(r.begin_at AS DATE) AS day, r.* EXCLUDE (raw_payload_gz)
FROM counted_reports r
JOIN lake_keys k ON k.kind = 'aggregate' AND k.report_key = r.report_key
