-- Who sent each record from (report ?1, record ?2) to (report ?3, record ?4), inclusive,
-- not classified yet, and its class: what computed_classes (sql/views.sql) gives, for
-- store_classes.sql to store. (One UPDATE ... FROM computed_classes took 20 times as long:
-- DuckDB then reads the records it updates.) In the records' own order: DuckDB 2.0.0
-- updated rows that came in hash-join order ten times as slowly.
CREATE OR REPLACE TEMP TABLE classified_batch AS
SELECT report_key, record_index, sender, sender_type, sender_rule, sender_confidence, class_rule, class, class_note
FROM computed_classes
WHERE report_key BETWEEN ?1 AND ?3
  AND (report_key > ?1 OR record_index >= ?2)
  AND (report_key < ?3 OR record_index <= ?4)
ORDER BY report_key, record_index
