-- The addresses `rua enrich` works on, with what is known of each: the source addresses of
-- records of reports after ?4 (report_key; the last run got everything up to it) that have
-- no ip_info row; and of the ip_info rows, with ?1 (all: the IP databases or sender rules
-- changed) every one, with ?2 (online) those whose lookup was not an answer (timeout,
-- server failure, not looked up) or is older than ?3 seconds. `needs_dns` says which.
WITH fresh AS (
    SELECT DISTINCT source_ip AS ip
    FROM records
    WHERE source_ip IS NOT NULL AND report_key > ?4
)
SELECT f.ip, true AS needs_dns, NULL AS status, NULL AS ptr_names, NULL AS ptr,
       NULL AS ptr_confirmed, NULL AS looked_up_at
FROM fresh f
WHERE NOT EXISTS (SELECT 1 FROM ip_info i WHERE i.ip = f.ip)
UNION ALL
SELECT * FROM (
    SELECT
        ip,
        status NOT IN ('ok', 'nxdomain', 'no_records', 'private')
            OR looked_up_at IS NULL
            OR looked_up_at < now()::TIMESTAMP - to_seconds(?3)  AS needs_dns,
        status,
        ptr_names,
        ptr,
        ptr_confirmed,
        epoch(looked_up_at)::BIGINT                            AS looked_up_at
    FROM ip_info
)
WHERE ?1 OR (?2 AND needs_dns)
