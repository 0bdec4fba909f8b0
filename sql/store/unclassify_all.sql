-- The classification rules (sql/views.sql) changed: every stored class is worked out again
-- by the next `rua enrich` (until then classified_records computes them).
UPDATE records SET class_rule = NULL WHERE class_rule IS NOT NULL
