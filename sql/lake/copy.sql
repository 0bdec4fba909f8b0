-- Writes one dataset's rows (the store puts one of the dataset queries beside this file in
-- place of the braces below) under a staging directory, one directory per batch and month;
-- the store then renames each file into the lake.
COPY ({source}) TO {path} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (batch_id, month), OVERWRITE true)
