-- Batches a killed publish left half written.
SELECT batch_id, kind FROM lake_batches WHERE state = 'writing' ORDER BY batch_id
