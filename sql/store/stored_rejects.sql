-- Rejected payloads of one kind (aggregate, smtp_tls): a newer parser may read them now.
SELECT reject_key, source, source_chain, file_name, message_id, message_subject, message_from, raw_gz
FROM rejects
WHERE payload_kind = ? AND raw_gz IS NOT NULL AND reject_key >= ?
ORDER BY reject_key
LIMIT ?
