-- rua summary (no --by): per domain, the sources with the most messages failing DMARC by
-- rua's alignment. Parameters: domain, since, until, reporter, sources per domain.
SELECT
    policy_domain                                         AS domain,
    coalesce(source_ip, '(invalid)')                      AS source_ip,
    sum(message_count)                                    AS failing_messages,
    string_agg(DISTINCT alignment, ', ' ORDER BY alignment) AS alignment,
    string_agg(DISTINCT org_name, ', ' ORDER BY org_name) AS reported_by
FROM filtered_records(?, ?, ?, ?)
WHERE NOT dmarc_pass
GROUP BY policy_domain, source_ip
QUALIFY row_number() OVER (PARTITION BY policy_domain ORDER BY sum(message_count) DESC, source_ip) <= ?
ORDER BY domain, failing_messages DESC, source_ip
