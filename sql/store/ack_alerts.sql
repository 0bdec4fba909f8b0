-- Acknowledges one alert (parameter: its key, or NULL for every open one); returns how many.
UPDATE alerts SET acknowledged_at = now()::TIMESTAMP
WHERE acknowledged_at IS NULL AND (alert_key = $1 OR $1 IS NULL)
