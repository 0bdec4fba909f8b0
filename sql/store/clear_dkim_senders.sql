-- Keeps what dkim_senders held (unclassify_dkim_senders.sql compares), then empties it.
CREATE OR REPLACE TEMP TABLE dkim_senders_before AS FROM dkim_senders;
DELETE FROM dkim_senders;
