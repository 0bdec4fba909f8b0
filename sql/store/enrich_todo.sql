-- The addresses `rua enrich` works on, with what is known of each: every source address of a
-- record without an ip_info row; with ?1 (all: the IP databases or sender rules changed)
-- every address; with ?2 (online) also those whose lookup was not an answer (timeout,
-- server failure, not looked up) or is older than ?3 seconds. `needs_dns` says which.
WITH addresses AS (
    SELECT DISTINCT source_ip AS ip FROM records WHERE source_ip IS NOT NULL
)
SELECT
    a.ip,
    i.ip IS NULL
        OR i.status NOT IN ('ok', 'nxdomain', 'no_records', 'private')
        OR i.looked_up_at IS NULL
        OR i.looked_up_at < now()::TIMESTAMP - to_seconds(?3)  AS needs_dns,
    i.status,
    i.ptr_names,
    i.ptr,
    i.ptr_confirmed,
    epoch(i.looked_up_at)::BIGINT                              AS looked_up_at
FROM addresses a
LEFT JOIN ip_info i USING (ip)
WHERE i.ip IS NULL
   OR ?1
   OR (?2 AND (i.status NOT IN ('ok', 'nxdomain', 'no_records', 'private')
               OR i.looked_up_at IS NULL
               OR i.looked_up_at < now()::TIMESTAMP - to_seconds(?3)))
ORDER BY a.ip
