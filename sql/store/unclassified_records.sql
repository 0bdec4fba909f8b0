-- How many records of counted reports `rua enrich` has not classified yet (a conflicting
-- copy's records never are: no view reads them).
SELECT count(*)
FROM records
WHERE class_rule IS NULL AND report_key IN (SELECT report_key FROM counted_reports)
