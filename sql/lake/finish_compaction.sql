-- The merged groups' files are gone from the lake.
DELETE FROM lake_files f WHERE EXISTS (
    SELECT 1 FROM lake_merges m WHERE m.batch_id = $1 AND m.merged_batch_id = f.batch_id AND m.month = f.month)
