UPDATE lake_batches SET state = 'done', finished_at = now()::TIMESTAMP WHERE batch_id = $1
