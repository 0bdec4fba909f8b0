DELETE FROM rejects WHERE reject_key = ?
