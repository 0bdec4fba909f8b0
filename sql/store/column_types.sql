-- Each stored column of a table with its declared type, in order (a test checks the store's
-- declarations against them); generated columns (the `*_raw` that read `*_raw_if_different`)
-- are not written, so they are not listed.
SELECT column_name, data_type FROM information_schema.columns
WHERE table_name = ? AND is_generated = 'NEVER'
ORDER BY ordinal_position
