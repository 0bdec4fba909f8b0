-- rua summary --by day: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_day_for(?, ?, ?, ?)
ORDER BY day DESC
LIMIT ?
