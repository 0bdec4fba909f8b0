INSERT INTO lake_merges VALUES ($1, $2, $3)
