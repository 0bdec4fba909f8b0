-- records.dkim_signer for the records of reports ?1 to ?2 (keys, inclusive), stored before
-- schema version 8; the same choice as rua_align::dkim_signer, in SQL.
-- A record whose signer this fills is classified again (its stored class dropped).
UPDATE records SET dkim_signer = s.domain, class_rule = NULL
FROM (
    SELECT
        d.report_key,
        d.record_index,
        arg_min(
            d.domain,
            (CASE WHEN d.domain = r.header_from_org OR d.domain LIKE '%.' || r.header_from_org THEN 1 ELSE 0 END) * 1000000
                + d.result_index
        ) AS domain
    FROM dkim_results d
    JOIN records r USING (report_key, record_index)
    WHERE d.report_key BETWEEN ?1 AND ?2
      AND d.result = 'pass' AND d.domain IS NOT NULL AND d.domain <> ''
    GROUP BY ALL
) s
WHERE records.report_key = s.report_key
  AND records.record_index = s.record_index
  AND records.report_key BETWEEN ?1 AND ?2
