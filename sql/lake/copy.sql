-- Writes one dataset's rows for one group to a staging file (the store puts one of the
-- dataset queries beside this file in place of the braces below); the store then renames the
-- file into the lake.
COPY ({source}) TO {path} (FORMAT parquet, COMPRESSION snappy)
