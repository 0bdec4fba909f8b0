-- Counted reports with records not classified yet: the first and last such record's index
-- and how many there are, in key order (the batches of classify_records.sql).
SELECT report_key, min(record_index), max(record_index), count(*)
FROM records
WHERE class_rule IS NULL AND report_key IN (SELECT report_key FROM counted_reports)
GROUP BY report_key
ORDER BY report_key
