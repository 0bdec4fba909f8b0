-- How many addresses have each lookup status, and how many have no row yet.
SELECT coalesce(i.status, 'unknown') AS status, count(*) AS addresses
FROM (SELECT DISTINCT source_ip AS ip FROM records WHERE source_ip IS NOT NULL) a
LEFT JOIN ip_info i USING (ip)
GROUP BY ALL
ORDER BY 1
