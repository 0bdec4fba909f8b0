-- Each column of a table with its declared type, in order (a test checks the store's
-- declarations against them).
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position
