-- After dkim_senders was rewritten: the records whose DKIM signer now names another sender
-- (or none, or one where there was none) are classified again.
UPDATE records SET class_rule = NULL
WHERE class_rule IS NOT NULL AND dkim_signer IN (
    SELECT domain FROM (FROM dkim_senders_before EXCEPT FROM dkim_senders)
    UNION
    SELECT domain FROM (FROM dkim_senders EXCEPT FROM dkim_senders_before));
DROP TABLE dkim_senders_before;
