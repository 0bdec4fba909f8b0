-- Reports that kept their XML, in key order from a key on: what rua reparse reads again.
SELECT report_key, conflict_of, source, source_chain, file_name, message_id, message_subject,
       message_from, message_date, raw_payload_gz
FROM reports
WHERE raw_payload_gz IS NOT NULL AND report_key >= ?
ORDER BY report_key
LIMIT ?
