-- rua alerts --prometheus: per policy domain gauges over the last `window_days` report days
-- (parameter 1), for node_exporter's textfile collector: metric, domain, label, label_value,
-- value. Every class has a series per domain, zero included, so that graphs have no gaps.
WITH newest AS (
    SELECT max(report_day(begin_at, end_at)) AS day FROM counted_reports
),
recent AS (
    SELECT policy_domain, class, message_count, dmarc_pass, org_name
    FROM classified_records
    WHERE report_day(begin_at, end_at) > (FROM newest) - CAST($1 AS INTEGER)
),
domains AS (
    SELECT DISTINCT policy_domain FROM recent
)
SELECT 'rua_messages' AS metric, d.policy_domain AS domain, 'class' AS label, c.class AS label_value,
       coalesce((SELECT sum(message_count) FROM recent r
                 WHERE r.policy_domain IS NOT DISTINCT FROM d.policy_domain AND r.class = c.class), 0) AS value
FROM domains d
CROSS JOIN (VALUES ('compliant'), ('forwarded'), ('misconfigured'), ('unauthorized')) c(class)
UNION ALL
SELECT 'rua_dmarc_pass_ratio', policy_domain, NULL, NULL,
       round(coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) / sum(message_count), 4)
FROM recent GROUP BY ALL
UNION ALL
SELECT 'rua_reporters', policy_domain, NULL, NULL, count(DISTINCT org_name)
FROM recent GROUP BY ALL
UNION ALL
SELECT 'rua_newest_report_timestamp_seconds', policy_domain, NULL, NULL, epoch(max(end_at))
FROM counted_reports GROUP BY ALL
UNION ALL
SELECT 'rua_alerts_open', domain, 'kind', kind, count(*)
FROM alerts WHERE acknowledged_at IS NULL GROUP BY ALL
ORDER BY metric, domain, label_value
