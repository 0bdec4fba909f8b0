-- rua rejects: what could not be read, newest first.
SELECT
    reject_key,
    strftime(rejected_at, '%Y-%m-%d %H:%M:%S')                       AS rejected_at,
    payload_kind,
    reason_code,
    source || CASE WHEN source_chain <> '' THEN ' > ' || source_chain ELSE '' END AS input,
    reason,
    payload_bytes
FROM rejects
ORDER BY reject_key DESC
