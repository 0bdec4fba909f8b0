-- What a compaction merges (month, batch), and the newest of their files' modification times.
SELECT m.month, m.merged_batch_id,
       (SELECT max(f.modified_ms) FROM lake_files f JOIN lake_merges a ON a.merged_batch_id = f.batch_id AND a.month = f.month
        WHERE a.batch_id = $1)
FROM lake_merges m WHERE m.batch_id = $1 ORDER BY m.month, m.merged_batch_id
