-- Assigns every counted report not yet published to batch $1, with its month partition.
INSERT INTO lake_reports
SELECT 'aggregate', report_key, $1, strftime(begin_at, '%Y-%m'), false
FROM counted_reports r
WHERE NOT EXISTS (SELECT 1 FROM lake_reports l WHERE l.kind = 'aggregate' AND l.report_key = r.report_key)
UNION ALL
SELECT 'tls', report_key, $1, strftime(begin_at, '%Y-%m'), false
FROM counted_tls_reports r
WHERE NOT EXISTS (SELECT 1 FROM lake_reports l WHERE l.kind = 'tls' AND l.report_key = r.report_key)
UNION ALL
SELECT 'failure', report_key, $1, strftime(coalesce(arrival_date, ingested_at), '%Y-%m'), false
FROM failure_reports r
WHERE NOT EXISTS (SELECT 1 FROM lake_reports l WHERE l.kind = 'failure' AND l.report_key = r.report_key)
