-- rua report: messages per day and source class, split over the days a report covers as
-- `rua summary --by day` does (daily_records), so each day adds up to that summary's
-- messages. Passing records are compliant. Parameters: domain, since, until, reporter.
SELECT day, CASE WHEN dmarc_pass THEN 'compliant' ELSE class END AS class, sum(day_messages) AS messages
FROM daily_records($1, $2, $3, $4, true)
GROUP BY ALL
ORDER BY day, class
