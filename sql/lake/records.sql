-- Dataset `records`: report_records as `rua export` writes it, with the report's identity and
-- its UTC day, for the reports in lake_keys.
SELECT k.report_identity, CAST(r.begin_at AS DATE) AS day, r.*
FROM report_records r
JOIN lake_keys k ON k.kind = 'aggregate' AND k.report_key = r.report_key
