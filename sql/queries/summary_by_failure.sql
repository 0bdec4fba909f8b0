-- rua summary --by failure: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_failure_for(?, ?, ?, ?)
ORDER BY reports DESC, reported_domain, source_ip
LIMIT ?
