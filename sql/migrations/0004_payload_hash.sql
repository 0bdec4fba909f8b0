-- The BLAKE3 of each accepted report's payload (its XML as parsed, decompressed), hex, as
-- rejects and other_payloads have it: a payload read again (the same file, a Maildir read
-- by every cron run, a message fetched twice) is recognized by its bytes before it is
-- parsed. NULL for reports stored before this version until `rua reparse` fills it in.
ALTER TABLE reports ADD COLUMN payload_hash VARCHAR;
