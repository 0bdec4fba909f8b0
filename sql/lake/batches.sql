-- The lakes and node names this database published to (one of each, or none yet).
SELECT DISTINCT lake_path, node FROM lake_batches ORDER BY lake_path, node
