-- make bench's store floor (crates/bench/src/bin/rua-store-floor.rs): what DuckDB alone
-- needs to store the rows of a database rua ingested, with no parsing and no Rust-to-DuckDB
-- conversion. The rows are first copied into temporary tables in memory (not timed), then
-- inserted into the same tables of a new rua database in one transaction (timed). Each
-- statement naming {table} is run once per table, with {table} replaced, and {columns} with
-- the table's stored columns (not its generated ones).

-- attach (the ingested database's path is the parameter)
ATTACH ? AS source (READ_ONLY);

-- setup
CREATE TEMP TABLE held_{table} AS SELECT {columns} FROM source.{table};

-- count
SELECT count(*) FROM held_{table};

-- timed
BEGIN TRANSACTION;
INSERT INTO main.{table} ({columns}) SELECT * FROM held_{table};
COMMIT;
CHECKPOINT;
