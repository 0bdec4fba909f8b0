-- rua report: messages per day and source class, split over the days a report covers as
-- `rua summary --by day` does (daily_records), so each day adds up to that summary's
-- messages. Passing records are compliant; only failing ones are joined to who sent them
-- for their class (an inner join: see is_one_of in views.sql for what a LEFT JOIN risks).
-- Parameters: domain, since, until, reporter.
WITH days AS (
    FROM daily_records($1, $2, $3, $4)
)
SELECT day, 'compliant' AS class, sum(day_messages) AS messages
FROM days
WHERE dmarc_pass
GROUP BY ALL
UNION ALL
SELECT d.day, c.class, sum(d.day_messages)
FROM days d
JOIN (
    SELECT report_key, record_index, class
    FROM filtered_sent_records($1, $2, $3, $4)
    WHERE NOT dmarc_pass
) c USING (report_key, record_index)
WHERE NOT d.dmarc_pass
GROUP BY ALL
ORDER BY day, class
