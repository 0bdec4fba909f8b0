-- ... and clear its reports' changes.
UPDATE lake_reports SET changed = false WHERE batch_id = $1 AND month = $2 AND changed
