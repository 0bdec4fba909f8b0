-- make bench: the lake's floor, DuckDB writing the stored rows a publish writes (records and
-- reports, nothing joined) to Parquet as the publish does ({dir}: where to).
SET preserve_insertion_order = false;
COPY (SELECT * FROM records) TO '{dir}/lake-floor-records.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT * EXCLUDE (raw_payload_gz) FROM reports) TO '{dir}/lake-floor-reports.parquet' (FORMAT parquet, COMPRESSION snappy);
