-- Appends one Arrow batch of finished rows to {table}; the store fills in {table} and its
-- {columns} (as crates/store/src/tables.rs declares them), and rua_batch is its table
-- function over the registered batch, whose columns come in that order.
INSERT INTO {table} ({columns}) SELECT * FROM rua_batch(?)
