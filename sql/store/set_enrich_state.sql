INSERT OR REPLACE INTO enrich_state (name, value) VALUES (?, ?)
