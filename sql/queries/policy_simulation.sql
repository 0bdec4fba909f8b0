-- rua policy, what enforcement would have done: per policy domain, what the receivers did
-- (as reported) and what they would have done under p=quarantine, p=reject, p=reject with
-- the published pct (when under 100: the rest is quarantined, RFC 7489 6.6.4) and p=reject
-- with strict alignment, to legitimate mail (compliant, forwarded, misconfigured) and to
-- unauthorized mail, assuming each receiver applies the policy to every failing message.
-- Each row's six counts add up to the domain's messages. Parameters: domain, since, until,
-- reporter, days.
WITH f AS (
    SELECT *, messages - unauthorized AS legitimate FROM policy_figures($1, $2, $3, $4, $5)
),
scenarios AS (
    SELECT domain, 1 AS rank, 'as reported (' || published || ')' AS scenario,
           legitimate - legitimate_quarantined - legitimate_rejected AS legitimate_delivered,
           legitimate_quarantined, legitimate_rejected,
           unauthorized - unauthorized_quarantined - unauthorized_rejected AS unauthorized_delivered,
           unauthorized_quarantined, unauthorized_rejected
    FROM f
    UNION ALL
    SELECT domain, 2, 'p=quarantine',
           legitimate - legitimate_failing, legitimate_failing, 0,
           0, unauthorized, 0
    FROM f
    UNION ALL
    SELECT domain, 3, 'p=reject pct=' || pct,
           legitimate - legitimate_failing,
           legitimate_failing - round(legitimate_failing * pct / 100.0)::BIGINT,
           round(legitimate_failing * pct / 100.0)::BIGINT,
           0,
           unauthorized - round(unauthorized * pct / 100.0)::BIGINT,
           round(unauthorized * pct / 100.0)::BIGINT
    FROM f WHERE pct < 100
    UNION ALL
    SELECT domain, 4, 'p=reject',
           legitimate - legitimate_failing, 0, legitimate_failing,
           0, 0, unauthorized
    FROM f
    UNION ALL
    SELECT domain, 5, 'p=reject adkim=s aspf=s',
           legitimate - legitimate_failing_strict, 0, legitimate_failing_strict,
           unauthorized - unauthorized_failing_strict, 0, unauthorized_failing_strict
    FROM f
)
SELECT s.* EXCLUDE (rank), f.messages
FROM scenarios s
JOIN f USING (domain)
ORDER BY f.messages DESC, domain, rank
