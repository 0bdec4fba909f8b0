-- The alerts not acknowledged (all of them when the parameter is true), oldest event first.
SELECT alert_key, kind, domain, strftime(day, '%Y-%m-%d') AS day, subject, message, value, baseline,
       strftime(raised_at, '%Y-%m-%d %H:%M:%S') AS raised_at,
       strftime(acknowledged_at, '%Y-%m-%d %H:%M:%S') AS acknowledged_at
FROM alerts
WHERE acknowledged_at IS NULL OR ? <> 0
ORDER BY day, alert_key
