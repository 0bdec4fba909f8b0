-- After source_overrides was rewritten: the records of every sender whose verdict changed
-- (added, dropped, or for other domains) are classified again.
UPDATE records SET class_rule = NULL
WHERE class_rule IS NOT NULL AND sender IN (
    SELECT sender FROM (FROM source_overrides_before EXCEPT FROM source_overrides)
    UNION
    SELECT sender FROM (FROM source_overrides EXCEPT FROM source_overrides_before));
DROP TABLE source_overrides_before;
