-- A reader's own memory limit ({memory_limit}; a reader otherwise gets DuckDB's default,
-- 80% of the machine): what a query holds beyond it is spilled to disk where it can be.
SET memory_limit = {memory_limit};
