-- Counted reports with records not classified yet, and how many, in key order (the batches
-- of classify_records.sql).
SELECT report_key, count(*) AS n
FROM records
WHERE class_rule IS NULL AND report_key IN (SELECT report_key FROM counted_reports)
GROUP BY report_key
ORDER BY report_key
