INSERT INTO lake_batches
SELECT coalesce(max(batch_id), 0) + 1, $1, $2, $3, 'writing', now()::TIMESTAMP, NULL FROM lake_batches
RETURNING batch_id
