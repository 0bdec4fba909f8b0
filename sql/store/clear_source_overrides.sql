-- Keeps what source_overrides held (unclassify_source_overrides.sql compares), then empties it.
CREATE OR REPLACE TEMP TABLE source_overrides_before AS FROM source_overrides;
DELETE FROM source_overrides;
