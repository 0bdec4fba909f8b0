-- The reports of one (batch $1, month $2) group, each with its identity (the same value for
-- the same report on every node).
CREATE OR REPLACE TEMP TABLE lake_keys AS
SELECT l.kind, l.report_key,
       CASE l.kind
           WHEN 'aggregate' THEN report_identity(r.org_name, r.org_email, r.report_id, r.policy_domain, r.begin_at, r.end_at)
           WHEN 'tls' THEN report_identity(t.organization_name, t.contact_info, t.report_id, NULL, t.begin_at, t.end_at)
           ELSE 'failure:' || f.content_hash
       END AS report_identity
FROM lake_reports l
LEFT JOIN reports r ON l.kind = 'aggregate' AND r.report_key = l.report_key
LEFT JOIN tls_reports t ON l.kind = 'tls' AND t.report_key = l.report_key
LEFT JOIN failure_reports f ON l.kind = 'failure' AND f.report_key = l.report_key
WHERE l.batch_id = $1 AND l.month = $2
