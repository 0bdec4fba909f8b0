-- rua summary --by ip: parameters are domain, since, until, reporter (NULL: no filter), limit.
-- The same columns as summary_by_ip_for, but addresses are ranked on their counts first and
-- the rates and distinct counts are made for the rows shown only.
WITH shown AS (
    SELECT * FROM ip_counts_for($1, $2, $3, $4)
    ORDER BY messages DESC, coalesce(source_ip, '(invalid)')
    LIMIT $5
)
SELECT
    coalesce(shown.source_ip, '(invalid)')           AS source_ip,
    shown.messages,
    shown.dmarc_pass,
    pct(shown.dmarc_pass, shown.messages)            AS dmarc_pass_pct,
    pct(shown.dkim_aligned, shown.messages)          AS dkim_aligned_pct,
    pct(shown.spf_aligned, shown.messages)           AS spf_aligned_pct,
    pct(shown.receiver_pass, shown.messages)         AS receiver_pass_pct,
    count(DISTINCT f.header_from)                    AS from_domains,
    count(DISTINCT f.org_name)                       AS reporters
FROM shown
JOIN filtered_records($1, $2, $3, $4) f ON f.source_ip IS NOT DISTINCT FROM shown.source_ip
GROUP BY shown.source_ip, shown.messages, shown.dmarc_pass, shown.dkim_aligned, shown.spf_aligned,
         shown.receiver_pass
ORDER BY shown.messages DESC, coalesce(shown.source_ip, '(invalid)')
