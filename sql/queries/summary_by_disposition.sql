-- rua summary --by disposition: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_disposition_for(?, ?, ?, ?)
ORDER BY messages DESC, disposition, override_reasons
LIMIT ?
