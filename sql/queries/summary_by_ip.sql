-- rua summary --by ip: parameters are domain, since, until, reporter (NULL: no filter), limit.
-- The same rows as summary_by_ip_for, made for the addresses shown only: they are ranked on
-- their message counts first, then rates and distinct counts are computed for them.
WITH shown AS (
    SELECT source_ip, sum(message_count) AS messages
    FROM filtered_records($1, $2, $3, $4)
    GROUP BY source_ip
    ORDER BY messages DESC, coalesce(source_ip, '(invalid)')
    LIMIT $5
)
SELECT
    coalesce(s.source_ip, '(invalid)')                                        AS source_ip,
    s.messages,
    coalesce(sum(f.message_count) FILTER (WHERE f.dmarc_pass), 0)             AS dmarc_pass,
    pct(sum(f.message_count) FILTER (WHERE f.dmarc_pass), s.messages)          AS dmarc_pass_pct,
    pct(sum(f.message_count) FILTER (WHERE f.dkim_aligned), s.messages)        AS dkim_aligned_pct,
    pct(sum(f.message_count) FILTER (WHERE f.spf_aligned), s.messages)         AS spf_aligned_pct,
    pct(sum(f.message_count) FILTER (WHERE f.receiver_dmarc_pass), s.messages) AS receiver_pass_pct,
    count(DISTINCT f.header_from)                                             AS from_domains,
    count(DISTINCT f.org_name)                                                AS reporters
FROM shown s
JOIN filtered_records($1, $2, $3, $4) f ON f.source_ip IS NOT DISTINCT FROM s.source_ip
GROUP BY s.source_ip, s.messages
ORDER BY s.messages DESC, coalesce(s.source_ip, '(invalid)')
