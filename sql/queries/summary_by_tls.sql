-- rua summary --by tls: parameters are domain, since, until, reporter (NULL: no filter), limit.
SELECT * FROM summary_by_tls_for(?, ?, ?, ?)
ORDER BY failed_sessions DESC, sessions DESC, policy_domain, policy_type
LIMIT ?
