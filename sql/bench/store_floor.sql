-- make bench's store floor (crates/bench/src/bin/rua-store-floor.rs): what DuckDB alone
-- needs to store the rows of a database rua ingested, with no parsing and no Rust-to-DuckDB
-- conversion. The rows are first copied into temporary tables in memory (not timed), then
-- inserted into the same tables of a new rua database in one transaction (timed). Each
-- statement is run once per table, with {table} replaced; {source} is the ingested database.

-- setup
ATTACH '{source}' AS source (READ_ONLY);
CREATE TEMP TABLE held_{table} AS SELECT * FROM source.{table};

-- count
SELECT count(*) FROM held_{table};

-- timed
BEGIN TRANSACTION;
INSERT INTO main.{table} SELECT * FROM held_{table};
COMMIT;
CHECKPOINT;
