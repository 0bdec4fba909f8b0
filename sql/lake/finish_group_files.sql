-- A group's files are in place: forget the files it had.
DELETE FROM lake_files WHERE batch_id = $1 AND month = $2
