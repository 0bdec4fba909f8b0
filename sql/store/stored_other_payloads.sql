-- Payloads of one kind kept aside because an older rua could not read them (smtp_tls).
SELECT payload_key, source, source_chain, file_name, message_id, message_subject, message_from, raw_gz
FROM other_payloads
WHERE payload_kind = ? AND raw_gz IS NOT NULL AND payload_key >= ?
ORDER BY payload_key
LIMIT ?
