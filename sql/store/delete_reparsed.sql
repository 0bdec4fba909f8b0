-- Removes the rows of the reports listed in reparse_keys, before their re-parsed rows are
-- appended in the same transaction.
DELETE FROM records WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM dkim_results WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM spf_results WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM override_reasons WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM report_warnings WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM report_errors WHERE report_key IN (SELECT report_key FROM reparse_keys);
DELETE FROM reports WHERE report_key IN (SELECT report_key FROM reparse_keys);
-- Published reports: the next publish writes their files again.
UPDATE lake_reports SET changed = true WHERE kind = 'aggregate' AND report_key IN (SELECT report_key FROM reparse_keys);
