-- rua summary --by network: parameters are domain, since, until, reporter (NULL: no filter),
-- limit. The distinct counts are made for the rows shown only (see network_spread_for).
WITH shown AS (
    SELECT * FROM network_totals_for($1, $2, $3, $4)
    ORDER BY messages DESC, source_network
    LIMIT $5
)
SELECT
    shown.*,
    count(DISTINCT f.source_ip)                      AS source_ips
FROM shown
JOIN filtered_records($1, $2, $3, $4) f ON coalesce(f.source_network, '(invalid)') = shown.source_network
GROUP BY ALL
ORDER BY messages DESC, source_network
