DELETE FROM enrich_state WHERE name = ?
