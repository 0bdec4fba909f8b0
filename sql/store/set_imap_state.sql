INSERT OR REPLACE INTO imap_state (mailbox, uid_validity, last_uid, updated_at)
VALUES (?, ?, ?, now()::TIMESTAMP)
