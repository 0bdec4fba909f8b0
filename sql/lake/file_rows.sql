-- Rows per Parquet file written under a staging directory ({glob}).
SELECT file_name, sum(row_group_num_rows)::BIGINT
FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows FROM parquet_metadata({glob}))
GROUP BY file_name
