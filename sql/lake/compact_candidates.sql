-- Groups a compaction may merge: published, smaller than $2 bytes, and whose files are at
-- least $1 ms older than the newest file of the lake (so that a streaming reader that keeps
-- files for less than that has them in its log already: see README, "Growing past one machine").
WITH groups AS (
    SELECT f.month, f.batch_id, sum(f.bytes) AS bytes, max(f.modified_ms) AS modified_ms
    FROM lake_files f JOIN lake_batches b USING (batch_id)
    WHERE b.state = 'done'
    GROUP BY f.month, f.batch_id
)
SELECT month, batch_id, bytes::BIGINT FROM groups
WHERE modified_ms <= (SELECT max(modified_ms) FROM lake_files) - $1 AND bytes < $2
ORDER BY month, batch_id
