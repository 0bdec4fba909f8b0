-- rua report: who sends as the domains, the senders with the most failing messages first,
-- with what enrichment knows of their sources: their number, the PTR name of the busiest,
-- up to three networks (AS) and countries. Parameters: domain, since, until, reporter, limit.
SELECT
    coalesce(sender, '(unknown)')                                              AS sender,
    coalesce(sender_type, 'unknown')                                           AS sender_type,
    sum(message_count)                                                         AS messages,
    coalesce(sum(message_count) FILTER (WHERE NOT dmarc_pass), 0)              AS failing,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))      AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))    AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))     AS spf_aligned_pct,
    count(DISTINCT source_ip)                                                  AS source_ips,
    arg_max(ptr, message_count)                                                AS ptr,
    array_to_string(list_slice(list(DISTINCT 'AS' || asn || coalesce(' ' || as_name, '')), 1, 3), ', ') AS networks,
    array_to_string(list_slice(list(DISTINCT country), 1, 3), ', ')            AS countries,
    string_agg(DISTINCT class, ', ' ORDER BY class)                            AS classes
FROM filtered_sent_records($1, $2, $3, $4)
GROUP BY ALL
ORDER BY failing DESC, messages DESC, sender
LIMIT $5
