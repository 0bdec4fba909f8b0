-- Discards everything since begin.sql.
ROLLBACK
