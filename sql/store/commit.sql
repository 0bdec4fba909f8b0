-- Makes everything since begin.sql durable.
COMMIT
