-- The (batch, month) groups of a batch.
SELECT DISTINCT batch_id, month FROM lake_reports WHERE batch_id = $1 ORDER BY month
