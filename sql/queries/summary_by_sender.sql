-- rua summary --by sender: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_sender_for(?, ?, ?, ?)
ORDER BY messages DESC, sender
LIMIT ?
