-- rua summary --by country: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_country_for(?, ?, ?, ?)
ORDER BY messages DESC, country
LIMIT ?
