-- Stores the events of alert_candidates (parameters: the `[alerts]` thresholds, in the
-- macro's order) that have no alert yet, and returns them: the new alerts.
INSERT INTO alerts
SELECT c.*, now()::TIMESTAMP, NULL
FROM alert_candidates(?, ?, ?, ?, ?, ?, ?, ?, ?) c
WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.alert_key = c.alert_key)
RETURNING alert_key, kind, domain, strftime(day, '%Y-%m-%d') AS day, subject, message, value, baseline
