-- Every stored failure report's content hash (a report is stored once by its content).
SELECT content_hash, report_key FROM failure_reports
