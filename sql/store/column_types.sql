-- The declared type of each column of a table, in order (a test checks the appenders' kinds).
SELECT data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position
