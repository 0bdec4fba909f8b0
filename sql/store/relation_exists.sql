SELECT count(*) FROM (
    SELECT table_name AS name FROM duckdb_tables() WHERE NOT internal
    UNION ALL
    SELECT view_name FROM duckdb_views() WHERE NOT internal
) WHERE name = ?
