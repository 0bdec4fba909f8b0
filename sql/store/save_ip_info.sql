-- A batch of address facts (`rua enrich`), appended to ip_info_incoming, replaces what
-- ip_info had for those addresses (in the caller's transaction: one row per address).
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
