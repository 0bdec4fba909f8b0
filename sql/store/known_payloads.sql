SELECT payload_hash FROM rejects
UNION ALL
SELECT payload_hash FROM other_payloads
