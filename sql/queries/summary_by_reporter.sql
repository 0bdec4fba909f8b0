-- rua summary --by reporter: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_reporter_for(?, ?, ?, ?)
ORDER BY messages DESC, reporter
LIMIT ?
