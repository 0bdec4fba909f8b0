-- rua schema, version 12: who sent each record and its class, as `rua enrich` worked them
-- out (sql/store/classify_records.sql: what the view computed_classes gives), so that reading
-- them joins nothing. NULL until then, and again when something they were worked out from
-- changes (class_rule NULL: not classified; classified_records then computes them).
ALTER TABLE records ADD COLUMN sender VARCHAR;
ALTER TABLE records ADD COLUMN sender_type VARCHAR;
ALTER TABLE records ADD COLUMN sender_rule VARCHAR;
ALTER TABLE records ADD COLUMN sender_confidence VARCHAR;
ALTER TABLE records ADD COLUMN class_rule VARCHAR;
ALTER TABLE records ADD COLUMN class VARCHAR;
ALTER TABLE records ADD COLUMN class_note VARCHAR;
