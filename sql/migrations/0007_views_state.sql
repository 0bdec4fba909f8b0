-- Which views a writer last created: a hash of sql/views.sql and the schema version. A writer
-- recreates the views only when it differs or a view is missing (recreating them at every
-- open cost each cron run about 100 ms and a dozen fsyncs).
CREATE TABLE views_state (views_hash VARCHAR NOT NULL);
