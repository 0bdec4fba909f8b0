-- Appends one Arrow batch of finished rows to {table}; the store fills in {table}, and
-- rua_batch is its table function over the registered batch (columns in table order).
INSERT INTO {table} SELECT * FROM rua_batch(?)
