-- How many source addresses have each lookup status (not_enriched: no ip_info row yet).
SELECT coalesce(i.status, 'not_enriched') AS status, count(*) AS addresses
FROM (SELECT DISTINCT source_ip AS ip FROM records WHERE source_ip IS NOT NULL) a
LEFT JOIN ip_info i USING (ip)
GROUP BY ALL
ORDER BY 1
