SELECT report_key, conflict_of, org_name, org_email, report_id, policy_domain,
       epoch(begin_at)::BIGINT, epoch(end_at)::BIGINT, content_hash
FROM reports
