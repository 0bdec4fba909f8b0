-- Stores what classify_records.sql worked out in `records`, for classified_records to read
-- (the join narrows the records read to the batch's).
UPDATE records SET
    sender            = c.sender,
    sender_type       = c.sender_type,
    sender_rule       = c.sender_rule,
    sender_confidence = c.sender_confidence,
    class_rule        = c.class_rule,
    class             = c.class,
    class_note        = c.class_note
FROM classified_batch c
WHERE records.report_key = c.report_key
  AND records.record_index = c.record_index;
DROP TABLE classified_batch;
