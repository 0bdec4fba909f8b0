-- rua summary --by class: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_class_for(?, ?, ?, ?)
ORDER BY CASE class WHEN 'compliant' THEN 1 WHEN 'forwarded' THEN 2 WHEN 'misconfigured' THEN 3 ELSE 4 END,
         messages DESC, class_rule
LIMIT ?
