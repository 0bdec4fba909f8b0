-- rua summary --by asn: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_asn_for(?, ?, ?, ?)
ORDER BY messages DESC, asn NULLS LAST
LIMIT ?
