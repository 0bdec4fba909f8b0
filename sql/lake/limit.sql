-- The writer's limits again after a publish or a migration ({memory_limit}: its own, or
-- DuckDB's default).
SET memory_limit = {memory_limit};
RESET preserve_insertion_order;
