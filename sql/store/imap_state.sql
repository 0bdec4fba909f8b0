SELECT uid_validity, last_uid FROM imap_state WHERE mailbox = ?
