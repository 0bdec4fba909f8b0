-- A reader of a database whose records are all classified: classified_records is then
-- stored_classes alone. A temporary view shadows the stored one of the same name for every
-- view and macro this connection reads (readers hold the file shared, so no writer adds
-- unclassified records while it is open).
CREATE TEMP VIEW classified_records AS FROM stored_classes;
