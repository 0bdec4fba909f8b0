-- rua summary (no --by): one line per policy domain. Parameters: domain, since, until,
-- reporter (NULL: no filter). Records are summed per report first, so the report-level
-- columns come from a few rows per report, not from every record.
WITH per_report AS (
    SELECT
        policy_domain,
        report_key,
        any_value(org_name)                                              AS org_name,
        any_value(policy_p)                                              AS policy_p,
        any_value(begin_at)                                              AS begin_at,
        any_value(end_at)                                                AS end_at,
        sum(message_count)                                               AS messages,
        sum(message_count) FILTER (WHERE dmarc_pass)                     AS dmarc_pass,
        sum(message_count) FILTER (WHERE receiver_dmarc_pass)            AS receiver_pass
    FROM filtered_records(?, ?, ?, ?)
    GROUP BY policy_domain, report_key
)
SELECT
    policy_domain                                                       AS domain,
    sum(messages)                                                       AS messages,
    coalesce(sum(dmarc_pass), 0)                                        AS dmarc_pass,
    pct(sum(dmarc_pass), sum(messages))                                 AS dmarc_pass_pct,
    pct(sum(receiver_pass), sum(messages))                              AS receiver_pass_pct,
    -- The policy of the latest report (by its end, then by when it was stored).
    arg_max(policy_p, (end_at, report_key))                             AS policy,
    count(*)                                                            AS reports,
    count(DISTINCT org_name)                                            AS reporters,
    strftime(min(begin_at), '%Y-%m-%d')                                 AS first_day,
    strftime(max(end_at), '%Y-%m-%d')                                   AS last_day
FROM per_report
GROUP BY policy_domain
ORDER BY messages DESC, domain
