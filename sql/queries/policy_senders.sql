-- rua policy, what to fix first: per policy domain, the legitimate sources whose mail fails
-- DMARC (misconfigured first, then forwarded), with the fix. Parameters: domain, since,
-- until, reporter, days.
SELECT
    policy_domain                                           AS domain,
    class,
    coalesce(sender, ptr, source_ip, '(invalid)')           AS sender,
    coalesce(sender_type, 'unknown')                        AS sender_type,
    sum(message_count)                                      AS messages,
    count(DISTINCT source_ip)                               AS source_ips,
    string_agg(DISTINCT dkim_signer, ', ' ORDER BY dkim_signer) AS dkim_signers,
    class_rule                                              AS rule,
    coalesce(class_note, 'none at your side: receivers that trust the forwarder (ARC) deliver it') AS fix
FROM filtered_located_records($1, policy_since($2, $5), $3, $4)
WHERE class IN ('misconfigured', 'forwarded') AND NOT dmarc_pass
GROUP BY ALL
ORDER BY domain, class DESC, messages DESC, sender
