-- The columns of an export source ({source}: a table, a view, or the user's query).
SELECT * FROM ({source}) AS source LIMIT 0
