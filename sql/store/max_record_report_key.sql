-- The newest report with records: `rua enrich` has seen every address up to it.
SELECT coalesce(max(report_key), -1) FROM records
