-- rua report: who reports: reports, messages, the share passing DMARC, the end of the
-- newest report. Parameters: domain, since, until, reporter.
SELECT
    coalesce(org_name, '(none)')                                               AS reporter,
    count(DISTINCT report_key)                                                 AS reports,
    sum(message_count)                                                         AS messages,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))      AS dmarc_pass_pct,
    strftime(max(end_at), '%Y-%m-%d')                                          AS last_report
FROM filtered_records($1, $2, $3, $4)
GROUP BY ALL
ORDER BY messages DESC, reporter
