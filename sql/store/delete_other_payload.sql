DELETE FROM other_payloads WHERE payload_key = ?
