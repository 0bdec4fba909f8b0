-- rua summary (no --by): one line per policy domain. Parameters: domain, since, until,
-- reporter (NULL: no filter).
SELECT
    policy_domain                                                       AS domain,
    sum(message_count)                                                  AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)          AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct,
    arg_max(policy_p, end_at)                                           AS policy,
    count(DISTINCT report_key)                                          AS reports,
    count(DISTINCT org_name)                                            AS reporters,
    strftime(min(begin_at), '%Y-%m-%d')                                 AS first_day,
    strftime(max(end_at), '%Y-%m-%d')                                   AS last_day
FROM filtered_records(?, ?, ?, ?)
GROUP BY policy_domain
ORDER BY messages DESC, domain
