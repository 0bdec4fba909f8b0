-- Dataset `tls_policies`: one row per policy of an SMTP TLS report.
SELECT k.report_identity, CAST(r.begin_at AS DATE) AS day, r.*
FROM tls_policy_results r
JOIN lake_keys k ON k.kind = 'tls' AND k.report_key = r.report_key
