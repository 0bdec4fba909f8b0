CREATE TEMP TABLE IF NOT EXISTS reparse_keys (report_key BIGINT NOT NULL);
DELETE FROM reparse_keys;
