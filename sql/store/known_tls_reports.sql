-- Every stored SMTP TLS report's identity parts and content hash.
SELECT report_key, conflict_of, organization_name, contact_info, report_id,
       epoch(begin_at)::BIGINT, epoch(end_at)::BIGINT, content_hash
FROM tls_reports
