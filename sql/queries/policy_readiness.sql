-- rua policy: one row per policy domain: messages by class (they add up to `messages`), the
-- verdict and its reasons, the published policy and its changes in the window, and what
-- p=quarantine or p=reject would do. Parameters: domain, since, until, reporter, days (the
-- window without since), min_days, min_reporters, max_misconfigured_pct. Reasons are joined
-- by '; ' (a terminal shows one per line), so no reason holds one.
WITH figures AS (
    FROM policy_figures($1, $2, $3, $4, $5)
),
changes AS (
    SELECT policy_domain AS domain,
           string_agg(strftime(day, '%Y-%m-%d') || ': ' || previous || ' -> ' || policy, ', ' ORDER BY day) AS changes
    FROM policy_changes($1, policy_since($2, $5), $3, $4)
    GROUP BY ALL
),
judged AS (
    SELECT
        f.*,
        c.changes,
        CASE
            WHEN f.days < $6 OR f.reporters < $7 THEN 'not enough data'
            WHEN f.misconfigured > f.messages * $8 / 100.0 THEN 'ready after fixes'
            ELSE 'ready'
        END AS verdict
    FROM figures f
    LEFT JOIN changes c USING (domain)
)
SELECT
    domain,
    messages,
    compliant,
    forwarded,
    misconfigured,
    unauthorized,
    verdict,
    concat_ws('; ',
        CASE WHEN days < $6 THEN 'reports on ' || days || ' day' || CASE WHEN days = 1 THEN '' ELSE 's' END || ' (at least ' || $6 || ' needed)' END,
        CASE WHEN reporters < $7 THEN reporters || ' reporter' || CASE WHEN reporters = 1 THEN '' ELSE 's' END || ' (at least ' || $7 || ' needed)' END,
        CASE WHEN p = 'reject' AND pct = 100 AND testing = 'n' THEN 'already enforced: ' || published END,
        CASE WHEN misconfigured > 0 THEN
            misconfigured || ' messages of your own senders fail DMARC and would be blocked: fix ' || senders_to_fix || ' first' END,
        CASE WHEN forwarded > 0 THEN
            forwarded || ' forwarded messages fail DMARC, delivered anyway by receivers that trust the forwarder (ARC, local policy)' END,
        CASE WHEN unauthorized > 0 THEN
            unauthorized || ' unauthorized messages (' || pct(unauthorized, messages) || '%) would be quarantined or rejected' END,
        CASE WHEN legitimate_failing_strict > legitimate_failing THEN
            'strict alignment (adkim=s, aspf=s) would fail ' || (legitimate_failing_strict - legitimate_failing) || ' more legitimate messages' END,
        CASE WHEN pct < 100 THEN 'pct=' || pct || ': receivers apply the policy to ' || pct || '% of failing mail' END,
        CASE WHEN testing = 'y' THEN 't=y: receivers apply one level less than published (testing)' END,
        CASE WHEN changes IS NOT NULL THEN 'policy changed: ' || changes END
    )                                                       AS reasons,
    published,
    coalesce(changes, '')                                   AS policy_changes,
    legitimate_failing                                      AS legitimate_at_risk,
    legitimate_failing_strict                               AS legitimate_at_risk_strict,
    unauthorized                                            AS unauthorized_stopped,
    days,
    reporters,
    first_day,
    last_day
FROM judged
ORDER BY messages DESC, domain
