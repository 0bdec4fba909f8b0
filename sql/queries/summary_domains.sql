-- rua summary (no --by): one line per policy domain, led by its messages per source class
-- (README "Source classes"). Parameters: domain, since, until, reporter (NULL: no filter).
-- Records are summed per report first, and the report-level columns come from the report's
-- own row, not from every record; only the failing records need who sent them for their
-- class (compliant is passing DMARC), so only they are read with it.
WITH per_report AS (
    SELECT r.policy_domain, r.report_key, r.org_name, r.policy_p, r.begin_at, r.end_at, s.* EXCLUDE (report_key)
    FROM (
        SELECT
            report_key,
            sum(message_count)                                           AS messages,
            sum(message_count) FILTER (WHERE dmarc_pass)                 AS dmarc_pass,
            sum(message_count) FILTER (WHERE receiver_dmarc_pass)        AS receiver_pass
        FROM filtered_records($1, $2, $3, $4)
        GROUP BY report_key
    ) s
    JOIN counted_reports r USING (report_key)
),
failing AS (
    SELECT
        policy_domain,
        sum(message_count) FILTER (WHERE class = 'forwarded')     AS forwarded,
        sum(message_count) FILTER (WHERE class = 'misconfigured') AS misconfigured,
        sum(message_count) FILTER (WHERE class = 'unauthorized')  AS unauthorized
    FROM filtered_sent_records($1, $2, $3, $4)
    WHERE NOT dmarc_pass
    GROUP BY policy_domain
),
domains AS (
SELECT
    policy_domain,
    sum(messages)                                                       AS messages,
    coalesce(sum(dmarc_pass), 0)                                        AS compliant,
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
)
SELECT
    d.policy_domain                                                     AS domain,
    d.messages,
    d.compliant,
    coalesce(f.forwarded, 0)                                            AS forwarded,
    coalesce(f.misconfigured, 0)                                        AS misconfigured,
    coalesce(f.unauthorized, 0)                                         AS unauthorized,
    d.* EXCLUDE (policy_domain, messages, compliant)
FROM domains d
LEFT JOIN failing f ON f.policy_domain IS NOT DISTINCT FROM d.policy_domain
ORDER BY d.messages DESC, domain
