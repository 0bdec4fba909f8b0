-- rua summary --by class-sender: parameters are domain, since, until, reporter (NULL: no
-- filter), limit (rows per class).
SELECT * FROM summary_by_class_sender_for(?, ?, ?, ?)
QUALIFY row_number() OVER (PARTITION BY class ORDER BY messages DESC, sender) <= ?
ORDER BY CASE class WHEN 'compliant' THEN 1 WHEN 'forwarded' THEN 2 WHEN 'misconfigured' THEN 3 ELSE 4 END,
         messages DESC, sender
