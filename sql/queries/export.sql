-- rua export. The store fills in {source} (a table, a view, or the user's query),
-- {filter} (a date filter on begin_at/end_at, or TRUE), {extra} (derived partition columns,
-- or nothing), {path} (a quoted file or directory) and {options} (FORMAT, PARTITION_BY).
COPY (SELECT *{extra} FROM ({source}) AS source WHERE {filter}) TO {path} ({options})
