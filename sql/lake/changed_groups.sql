-- The (batch, month) groups holding a report that `rua reparse` changed since it was published.
SELECT DISTINCT batch_id, month FROM lake_reports WHERE changed ORDER BY batch_id, month
