-- A batch of address facts (`rua enrich`), appended to ip_info_incoming, replaces what
-- ip_info had for those addresses (in the caller's transaction: one row per address).
-- The records of an address whose sender or lookup status this changes (or that had no row)
-- are classified again (their stored class dropped: see computed_classes in views.sql).
UPDATE records SET class_rule = NULL
WHERE class_rule IS NOT NULL AND source_ip IN (
    SELECT ip FROM ip_info_incoming
    EXCEPT
    SELECT n.ip
    FROM ip_info_incoming n JOIN ip_info o ON o.ip = n.ip
    WHERE o.sender IS NOT DISTINCT FROM n.sender
      AND o.sender_type IS NOT DISTINCT FROM n.sender_type
      AND o.sender_rule IS NOT DISTINCT FROM n.sender_rule
      AND o.sender_confidence IS NOT DISTINCT FROM n.sender_confidence
      AND o.status IS NOT DISTINCT FROM n.status);
DELETE FROM ip_info WHERE ip IN (SELECT ip FROM ip_info_incoming);
INSERT INTO ip_info (
    ip, ptr, ptr_names, ptr_confirmed, ptr_org_domain, status, looked_up_at,
    asn, as_name, as_domain, country, ip_databases,
    sender, sender_type, sender_rule, sender_confidence, updated_at
)
SELECT
    ip, ptr, string_split(nullif(ptr_names, ''), ' '), ptr_confirmed, ptr_org_domain, status,
    make_timestamp(looked_up_at * 1000000),
    asn, as_name, as_domain, country, ip_databases,
    sender, sender_type, sender_rule, sender_confidence, now()::TIMESTAMP
FROM ip_info_incoming;
DELETE FROM ip_info_incoming;
