INSERT INTO lake_files VALUES ($1, $2, $3, $4, $5, $6, $7)
