DELETE FROM lake_merges WHERE batch_id = $1
