-- rua summary --by network: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_network_for(?, ?, ?, ?)
ORDER BY messages DESC, source_network
LIMIT ?
