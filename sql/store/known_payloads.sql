-- Payloads already stored: each accepted report's, with the report a copy of it duplicates
-- (its identity's first), then rejected and other payloads (no report).
SELECT payload_hash, coalesce(conflict_of, report_key) FROM reports WHERE payload_hash IS NOT NULL
UNION ALL
SELECT payload_hash, NULL FROM rejects
UNION ALL
SELECT payload_hash, NULL FROM other_payloads
