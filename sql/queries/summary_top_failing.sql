-- rua summary (no --by): per domain, the sources with the most messages failing DMARC by
-- rua's alignment. Parameters: domain, since, until, reporter, sources per domain. The
-- sources are ranked first; what failed and who reported it is gathered for those only.
WITH shown AS (
    SELECT
        policy_domain,
        coalesce(source_ip, '(invalid)')                  AS source_ip,
        sum(message_count)                                AS failing_messages
    FROM filtered_records($1, $2, $3, $4)
    WHERE NOT dmarc_pass
    GROUP BY policy_domain, coalesce(source_ip, '(invalid)')
    QUALIFY row_number() OVER (
        PARTITION BY policy_domain ORDER BY sum(message_count) DESC, coalesce(source_ip, '(invalid)')
    ) <= $5
)
SELECT
    shown.policy_domain                                   AS domain,
    shown.source_ip,
    shown.failing_messages,
    string_agg(DISTINCT f.alignment, ', ' ORDER BY f.alignment) AS alignment,
    string_agg(DISTINCT f.org_name, ', ' ORDER BY f.org_name)   AS reported_by
FROM shown
JOIN filtered_records($1, $2, $3, $4) f
  ON f.policy_domain IS NOT DISTINCT FROM shown.policy_domain
 AND coalesce(f.source_ip, '(invalid)') = shown.source_ip
WHERE NOT f.dmarc_pass
GROUP BY ALL
ORDER BY domain, failing_messages DESC, source_ip
