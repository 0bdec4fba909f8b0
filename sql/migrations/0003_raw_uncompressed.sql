-- The kept copies of payloads are gzip already, so DuckDB cannot compress them further, but
-- at every checkpoint it tried (dictionary, FSST, zstd) before storing them as they are:
-- with the raw payloads kept, most of a large ingest's final checkpoint. These columns are
-- now declared uncompressed. DuckDB cannot change a column's compression in place, so each
-- is re-added as the table's last column (where it was) and the values copied over; on a
-- large database this migration rewrites the column once.

ALTER TABLE reports RENAME COLUMN raw_payload_gz TO raw_payload_gz_0002;
ALTER TABLE reports ADD COLUMN raw_payload_gz BLOB USING COMPRESSION uncompressed;
UPDATE reports SET raw_payload_gz = raw_payload_gz_0002 WHERE raw_payload_gz_0002 IS NOT NULL;
ALTER TABLE reports DROP COLUMN raw_payload_gz_0002;

ALTER TABLE rejects RENAME COLUMN raw_gz TO raw_gz_0002;
ALTER TABLE rejects ADD COLUMN raw_gz BLOB USING COMPRESSION uncompressed;
UPDATE rejects SET raw_gz = raw_gz_0002 WHERE raw_gz_0002 IS NOT NULL;
ALTER TABLE rejects DROP COLUMN raw_gz_0002;

ALTER TABLE other_payloads RENAME COLUMN raw_gz TO raw_gz_0002;
ALTER TABLE other_payloads ADD COLUMN raw_gz BLOB USING COMPRESSION uncompressed;
UPDATE other_payloads SET raw_gz = raw_gz_0002 WHERE raw_gz_0002 IS NOT NULL;
ALTER TABLE other_payloads DROP COLUMN raw_gz_0002;
