-- The kinds of report in the group being written (a dataset of another kind is skipped).
SELECT DISTINCT kind FROM lake_keys
