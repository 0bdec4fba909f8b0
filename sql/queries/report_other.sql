-- rua report: everything else rua holds, in brief, so nothing is hidden: inputs it could
-- not read, SMTP TLS and failure reports (filtered as their summaries are), and conflicting
-- copies of aggregate reports. Parameters: domain, since, until, reporter.
SELECT 'inputs that could not be read (rua rejects)' AS what, count(*) AS count,
       coalesce(string_agg(DISTINCT reason_code, ', ' ORDER BY reason_code), '') AS detail
FROM rejects
UNION ALL
SELECT 'SMTP TLS reports (rua summary --by tls)', coalesce(sum(reports), 0),
       coalesce(sum(sessions), 0) || ' sessions, ' || coalesce(sum(failed_sessions), 0) || ' failed'
FROM summary_by_tls_for($1, $2, $3, $4)
UNION ALL
SELECT 'failure reports (rua summary --by failure)', coalesce(sum(reports), 0),
       count(DISTINCT source_ip) || ' source addresses'
FROM summary_by_failure_for($1, $2, $3, $4)
UNION ALL
SELECT 'aggregate report copies that conflict with the first', count(*), 'not counted'
FROM reports
WHERE conflict_of IS NOT NULL
