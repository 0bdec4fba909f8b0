-- Every stored SMTP TLS report's identity parts and content hash, in the columns of
-- known_reports.sql (a TLS report has no policy domain in its identity).
SELECT report_key, conflict_of, organization_name, contact_info, report_id, NULL::VARCHAR,
       epoch(begin_at)::BIGINT, epoch(end_at)::BIGINT, content_hash
FROM tls_reports
