-- A publish reads like a summary (the views join every record to its address's row), with
-- DuckDB's default memory and threads rather than a writer's limits, and writes its files
-- in any order (with the order kept, one thread writes).
RESET memory_limit;
RESET threads;
SET preserve_insertion_order = false;
