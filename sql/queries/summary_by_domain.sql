-- rua summary --by domain: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_domain_for(?, ?, ?, ?)
ORDER BY messages DESC, from_domain
LIMIT ?
