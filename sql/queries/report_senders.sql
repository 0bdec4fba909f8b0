-- rua report: who sends as the domains, the senders with the most failing messages first,
-- with what enrichment knows of their sources: their number, the PTR name of the busiest,
-- up to three networks (AS) and countries. Parameters: domain, since, until, reporter, limit.
-- The senders are ranked first from the records alone; only the addresses of those shown
-- are then looked up in ip_info (one row per address of theirs, not per record).
WITH shown AS (
    SELECT
        coalesce(sender, '(unknown)')                                              AS sender,
        coalesce(sender_type, 'unknown')                                           AS sender_type,
        sum(message_count)                                                         AS messages,
        coalesce(sum(message_count) FILTER (WHERE NOT dmarc_pass), 0)              AS failing,
        pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))      AS dmarc_pass_pct,
        pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))    AS dkim_aligned_pct,
        pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))     AS spf_aligned_pct,
        -- The classes of its messages, in name order (cheaper than a DISTINCT aggregate).
        concat_ws(', ',
            CASE WHEN bool_or(class = 'compliant') THEN 'compliant' END,
            CASE WHEN bool_or(class = 'forwarded') THEN 'forwarded' END,
            CASE WHEN bool_or(class = 'misconfigured') THEN 'misconfigured' END,
            CASE WHEN bool_or(class = 'unauthorized') THEN 'unauthorized' END) AS classes
    FROM filtered_sent_records($1, $2, $3, $4)
    GROUP BY ALL
    ORDER BY failing DESC, messages DESC, sender
    LIMIT $5
),
addresses AS (
    SELECT coalesce(f.sender, '(unknown)') AS sender, coalesce(f.sender_type, 'unknown') AS sender_type,
           f.source_ip, max(f.message_count) AS busiest
    FROM filtered_sent_records($1, $2, $3, $4) f
    SEMI JOIN shown s ON s.sender = coalesce(f.sender, '(unknown)') AND s.sender_type = coalesce(f.sender_type, 'unknown')
    GROUP BY ALL
),
located AS (
    SELECT a.sender, a.sender_type,
           count(a.source_ip) AS source_ips,
           arg_max(ii.ptr, a.busiest) AS ptr,
           array_to_string(list_slice(list(DISTINCT 'AS' || ii.asn || coalesce(' ' || ii.as_name, '')), 1, 3), ', ') AS networks,
           array_to_string(list_slice(list(DISTINCT ii.country), 1, 3), ', ') AS countries
    -- Only addresses with something to show (a PTR, AS or country) are looked up.
    FROM addresses a
    LEFT JOIN (FROM ip_info WHERE ptr IS NOT NULL OR asn IS NOT NULL OR country IS NOT NULL) ii
           ON ii.ip = a.source_ip
    GROUP BY ALL
)
SELECT s.sender, s.sender_type, s.messages, s.failing, s.dmarc_pass_pct, s.dkim_aligned_pct, s.spf_aligned_pct,
       l.source_ips, l.ptr, l.networks, l.countries, s.classes
FROM shown s JOIN located l USING (sender, sender_type)
ORDER BY s.failing DESC, s.messages DESC, s.sender
