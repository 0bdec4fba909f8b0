-- An existing database migrates with DuckDB's default memory limit, not the writer's: a
-- migration that adds a column to every record holds them all in its transaction
-- (sql/lake/limit.sql sets the writer's limit again).
RESET memory_limit;
