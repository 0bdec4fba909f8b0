-- Reports from key ?1 to ?2 with their record counts, in key order (backfill batches).
SELECT report_key, n_records FROM reports WHERE report_key BETWEEN ?1 AND ?2 ORDER BY report_key
