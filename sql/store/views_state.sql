-- The hash of the views last created, and how many views there are now.
SELECT (SELECT max(views_hash) FROM views_state),
       (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND database_name = current_database())
