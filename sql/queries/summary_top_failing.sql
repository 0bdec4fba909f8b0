-- rua summary (no --by): per domain, the sources with the most messages failing DMARC by
-- rua's alignment. Parameters: domain, since, until, reporter, sources per domain. Sources
-- are ranked on their failing messages first (only those at or above each domain's N-th
-- count are sorted); who sent them (`rua enrich`), what failed and who reported it is
-- gathered for the ones shown.
WITH failing AS (
    SELECT policy_domain, source_ip, sum(message_count) AS failing_messages
    FROM filtered_records($1, $2, $3, $4)
    WHERE NOT dmarc_pass
    GROUP BY policy_domain, source_ip
),
cut AS (
    SELECT policy_domain, list_min(max(failing_messages, $5)) AS least
    FROM failing
    GROUP BY policy_domain
),
shown AS (
    SELECT failing.*
    FROM failing
    JOIN cut ON failing.policy_domain IS NOT DISTINCT FROM cut.policy_domain
            AND failing.failing_messages >= cut.least
    QUALIFY row_number() OVER (
        PARTITION BY failing.policy_domain
        ORDER BY failing.failing_messages DESC, coalesce(failing.source_ip, '(invalid)')
    ) <= $5
)
SELECT
    shown.policy_domain                                   AS domain,
    coalesce(shown.source_ip, '(invalid)')                AS source_ip,
    string_agg(
        DISTINCT pick_sender(ii.sender_rule, ds.sender, ii.sender, ds.sender), ', '
        ORDER BY pick_sender(ii.sender_rule, ds.sender, ii.sender, ds.sender)
    )                                                     AS sender,
    max(ii.ptr)                                           AS ptr,
    shown.failing_messages,
    string_agg(DISTINCT f.alignment, ', ' ORDER BY f.alignment) AS alignment,
    string_agg(DISTINCT f.org_name, ', ' ORDER BY f.org_name)   AS reported_by
FROM shown
JOIN filtered_records($1, $2, $3, $4) f
  ON f.policy_domain IS NOT DISTINCT FROM shown.policy_domain
 AND f.source_ip IS NOT DISTINCT FROM shown.source_ip
LEFT JOIN ip_info ii ON ii.ip = shown.source_ip
LEFT JOIN dkim_senders ds ON ds.domain = f.dkim_signer
WHERE NOT f.dmarc_pass
GROUP BY shown.policy_domain, shown.source_ip, shown.failing_messages
ORDER BY domain, failing_messages DESC, source_ip
