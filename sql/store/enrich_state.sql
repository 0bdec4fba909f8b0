SELECT value FROM enrich_state WHERE name = ?
