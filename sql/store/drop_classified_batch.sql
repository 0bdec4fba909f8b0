-- After store_classes.sql.
DROP TABLE classified_batch
