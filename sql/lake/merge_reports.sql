-- A compaction takes over the reports of the groups it merges.
UPDATE lake_reports l SET batch_id = m.batch_id
FROM lake_merges m
WHERE m.batch_id = $1 AND l.batch_id = m.merged_batch_id AND l.month = m.month
