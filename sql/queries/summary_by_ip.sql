-- rua summary --by ip: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_ip_for(?, ?, ?, ?)
ORDER BY messages DESC, source_ip
LIMIT ?
