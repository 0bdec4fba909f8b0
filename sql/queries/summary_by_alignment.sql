-- rua summary --by alignment: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_alignment_for(?, ?, ?, ?)
ORDER BY messages DESC, alignment
LIMIT ?
