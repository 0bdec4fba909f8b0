INSERT INTO dkim_senders (domain, sender, sender_type, sender_rule, sender_confidence)
VALUES (?, ?, ?, ?, ?)
