-- Views and macros are recreated whenever rua opens a database for writing; they are stored
-- in the database file, so the stock duckdb CLI and any DuckDB client can use them.
-- Column by column documentation: README.md, "Views".

-- `value` is one of `choices`. For filters on the right side of a LEFT JOIN: DuckDB 1.2
-- proves `x IN (...)` or `x IS NULL` false from a column's statistics, takes that side as
-- empty, and then gives the join's output wrong statistics, by which an ORDER BY over sums
-- of it keeps one byte of each sum ("Type INT128 with value ... can't be cast ... INT8", or
-- a silently wrong number). It cannot see through a function, so it proves nothing here.
CREATE OR REPLACE MACRO is_one_of(value, choices) AS list_contains(choices, value);

-- A report's identity in a lake (`rua export --incremental`): the same value for the same
-- report on every node, from what identifies it in rua's deduplication (organization, or its
-- e-mail when it names none, report_id, policy domain, period). 32 hex digits.
CREATE OR REPLACE MACRO report_identity(org_name, org_email, report_id, policy_domain, begin_at, end_at) AS
    sha256(concat_ws(chr(0),
        coalesce(nullif(lower(trim(org_name)), ''), 'email:' || lower(trim(coalesce(org_email, '')))),
        trim(report_id), coalesce(policy_domain, ''),
        CAST(epoch(begin_at) AS BIGINT), CAST(epoch(end_at) AS BIGINT)))[1:32];

-- Reports that count: the first copy of each identity (conflicting copies are excluded).
CREATE OR REPLACE VIEW counted_reports AS
SELECT * FROM reports WHERE conflict_of IS NULL;

-- How a record's DKIM and SPF results stand under the policy's alignment.
CREATE OR REPLACE MACRO alignment_of(dkim_aligned, spf_aligned, dkim_passed, spf_passed) AS
    CASE
        WHEN dkim_aligned AND spf_aligned THEN 'both_aligned'
        WHEN dkim_aligned THEN 'dkim_aligned_only'
        WHEN spf_aligned THEN 'spf_aligned_only'
        WHEN dkim_passed THEN 'dkim_pass_unaligned'
        WHEN spf_passed THEN 'spf_pass_unaligned'
        ELSE 'nothing_passed'
    END;

-- One row per record of a counted report: the report's metadata and policy, the receiver's
-- verdicts, rua's own alignment under the report's adkim/aspf (relaxed when absent), and
-- (as stored_*) who sent it and its class as `rua enrich` stored them in `records` (NULL
-- until then). Read through report_records_core and classified_records.
CREATE OR REPLACE VIEW report_records_stored AS
WITH joined AS (
    SELECT
        r.report_key,
        r.org_name,
        r.report_id,
        r.begin_at,
        r.end_at,
        r.policy_domain,
        r.policy_p,
        r.policy_sp,
        r.policy_adkim,
        r.policy_aspf,
        r.policy_np,
        r.policy_pct,
        r.policy_testing,
        rec.record_index,
        rec.source_ip,
        rec.source_network,
        rec.message_count,
        rec.disposition,
        rec.dkim_verdict,
        rec.spf_verdict,
        (rec.dkim_verdict = 'pass' OR rec.spf_verdict = 'pass') AS receiver_dmarc_pass,
        rec.header_from,
        rec.header_from_org,
        rec.envelope_from,
        rec.envelope_to,
        rec.dkim_passed,
        rec.spf_passed,
        CASE WHEN r.policy_adkim = 's' THEN rec.dkim_aligned_strict ELSE rec.dkim_aligned_relaxed END AS dkim_aligned,
        CASE WHEN r.policy_aspf = 's' THEN rec.spf_aligned_strict ELSE rec.spf_aligned_relaxed END AS spf_aligned,
        -- Would pass with adkim=s and aspf=s (what `rua policy` simulates).
        rec.dkim_aligned_strict OR rec.spf_aligned_strict AS dmarc_pass_strict,
        rec.dkim_signer,
        rec.sender            AS stored_sender,
        rec.sender_type       AS stored_sender_type,
        rec.sender_rule       AS stored_sender_rule,
        rec.sender_confidence AS stored_sender_confidence,
        rec.class_rule        AS stored_class_rule,
        rec.class             AS stored_class,
        rec.class_note        AS stored_class_note
    FROM counted_reports r
    JOIN records rec USING (report_key)
)
SELECT
    *,
    dkim_aligned OR spf_aligned AS dmarc_pass,
    alignment_of(dkim_aligned, spf_aligned, dkim_passed, spf_passed) AS alignment,
    -- rua and the receiver disagree (forwarding, ARC and local policy explain most of it).
    (dkim_aligned OR spf_aligned) IS DISTINCT FROM receiver_dmarc_pass AS verdict_differs
FROM joined;

-- The same without who sent it: classified_records and report_records add that; the
-- summaries that need no sender read this one, which joins nothing more.
CREATE OR REPLACE VIEW report_records_core AS
SELECT * EXCLUDE (stored_sender, stored_sender_type, stored_sender_rule, stored_sender_confidence,
                  stored_class_rule, stored_class, stored_class_note)
FROM report_records_stored;

-- Who sent a record (`rua enrich`): the user's rule for the address, else the sender the
-- passing DKIM signature names, else the address's own (confirmed PTR, AS). Each argument
-- pair is (address, DKIM signer) for one column of ip_info and dkim_senders.
CREATE OR REPLACE MACRO pick_sender(address_rule, dkim_sender, address_value, dkim_value) AS
    CASE WHEN dkim_sender IS NULL OR address_rule = 'config' THEN address_value ELSE dkim_value END;

-- Records whose reporter says they were forwarded: an override reason forwarded,
-- trusted_forwarder or mailing_list, or local_policy with a trusted ARC chain in its comment
-- (Google writes "arc=pass"; a comment with "arc=fail" never counts).
CREATE OR REPLACE VIEW reporter_forwarded AS
SELECT DISTINCT report_key, record_index
FROM override_reasons
WHERE is_one_of(reason_type, ['forwarded', 'trusted_forwarder', 'mailing_list'])
   OR (is_one_of(reason_type, ['local_policy']) AND comment ILIKE '%arc=pass%' AND comment NOT ILIKE '%arc=fail%');

-- Records sent through a mailbox provider, forwarder or security gateway (by the address or
-- the passing DKIM signer) that carry a DKIM signature of the From domain's organization,
-- passing or not: the original signature, carried (or broken) through a forward. Only the
-- intermediaries' records are joined to dkim_results, so this costs little.
CREATE OR REPLACE VIEW intermediary_from_signatures AS
WITH intermediary AS (
    SELECT rec.report_key, rec.record_index, rec.header_from_org
    FROM records rec JOIN ip_info ii ON ii.ip = rec.source_ip
    WHERE is_one_of(ii.sender_type, ['email_provider', 'forwarder', 'security_gateway'])
    UNION ALL
    SELECT rec.report_key, rec.record_index, rec.header_from_org
    FROM records rec JOIN dkim_senders ds ON ds.domain = rec.dkim_signer
    WHERE is_one_of(ds.sender_type, ['email_provider', 'forwarder', 'security_gateway'])
)
SELECT DISTINCT i.report_key, i.record_index
FROM intermediary i JOIN dkim_results d USING (report_key, record_index)
WHERE d.domain = i.header_from_org OR ends_with(d.domain, '.' || i.header_from_org);

-- The user's verdicts (`[[enrich.source]]`) one row per sender: for every domain, and per
-- policy domain (joined by sender alone: see is_one_of).
CREATE OR REPLACE VIEW source_verdicts AS
SELECT
    sender,
    any_value(authorized) FILTER (WHERE policy_domain IS NULL)                        AS everywhere,
    list({'policy_domain': policy_domain, 'authorized': authorized}) FILTER (WHERE policy_domain IS NOT NULL) AS per_domain
FROM source_overrides
GROUP BY sender;

-- The class a rule gives (README "Source classes").
CREATE OR REPLACE MACRO class_of(class_rule) AS
    CASE class_rule
        WHEN 'dmarc_pass' THEN 'compliant'
        WHEN 'reporter_says_forwarded' THEN 'forwarded'
        WHEN 'list_signature' THEN 'forwarded'
        WHEN 'from_signature_via_intermediary' THEN 'forwarded'
        WHEN 'own_source' THEN 'misconfigured'
        WHEN 'known_sender_unaligned' THEN 'misconfigured'
        WHEN 'config_authorized' THEN 'misconfigured'
        ELSE 'unauthorized'
    END;

-- Who sent each record not classified yet, and its class_rule and class_note: the first
-- rule that holds decides (README "Source classes"). `rua enrich` stores what this gives in
-- `records` (sql/store/classify_records.sql), and drops what it stored when something this
-- reads changes (an address's sender or lookup status, the DKIM senders, the configured
-- verdicts, these views), so classified_records always says what this would.
CREATE OR REPLACE VIEW computed_classes AS
WITH sent AS (
    SELECT
        c.*,
        pick_sender(ii.sender_rule, ds.sender, ii.sender, ds.sender)                       AS sender,
        pick_sender(ii.sender_rule, ds.sender, ii.sender_type, ds.sender_type)             AS sender_type,
        pick_sender(ii.sender_rule, ds.sender, ii.sender_rule, ds.sender_rule)             AS sender_rule,
        pick_sender(ii.sender_rule, ds.sender, ii.sender_confidence, ds.sender_confidence) AS sender_confidence,
        fw.report_key IS NOT NULL AS is_reporter_forwarded,
        fs.report_key IS NOT NULL AS is_intermediary_signed,
        ds.sender_type            AS signer_type,
        ii.status                 AS lookup_status
    FROM (
        SELECT * EXCLUDE (stored_sender, stored_sender_type, stored_sender_rule, stored_sender_confidence,
                          stored_class_rule, stored_class, stored_class_note)
        FROM report_records_stored
        WHERE stored_class_rule IS NULL
    ) c
    LEFT JOIN ip_info ii ON ii.ip = c.source_ip
    LEFT JOIN dkim_senders ds ON ds.domain = c.dkim_signer
    LEFT JOIN reporter_forwarded fw ON fw.report_key = c.report_key AND fw.record_index = c.record_index
    LEFT JOIN intermediary_from_signatures fs ON fs.report_key = c.report_key AND fs.record_index = c.record_index
),
judged AS (
    -- The user's verdict on the sender: for this policy domain, else for every domain.
    SELECT
        s.*,
        coalesce(
            list_filter(v.per_domain, lambda d: d.policy_domain = s.policy_domain)[1].authorized,
            v.everywhere
        ) AS is_authorized
    FROM sent s
    LEFT JOIN source_verdicts v ON v.sender = s.sender
),
ruled AS (
    SELECT
        * EXCLUDE (is_reporter_forwarded, is_intermediary_signed, signer_type, is_authorized),
        CASE
            WHEN dmarc_pass THEN 'dmarc_pass'
            WHEN is_authorized = false THEN 'config_never_authorized'
            WHEN is_authorized THEN 'config_authorized'
            WHEN is_reporter_forwarded THEN 'reporter_says_forwarded'
            WHEN signer_type = 'forwarder' THEN 'list_signature'
            WHEN sender_type IN ('email_provider', 'forwarder', 'security_gateway') AND NOT spf_aligned
                 AND is_intermediary_signed THEN 'from_signature_via_intermediary'
            WHEN sender_type = 'own' THEN 'own_source'
            WHEN sender IS NOT NULL AND sender_type NOT IN ('unknown', 'isp', 'hosting')
                 AND (dkim_passed OR spf_passed) THEN 'known_sender_unaligned'
            ELSE 'no_other_rule'
        END AS class_rule
    FROM judged
)
SELECT
    * EXCLUDE (lookup_status),
    class_of(class_rule) AS class,
    -- What to do about a misconfigured sender; why an unauthorized source looks so.
    CASE
        WHEN class_rule NOT IN ('own_source', 'known_sender_unaligned', 'config_authorized') THEN
            CASE WHEN class_rule <> 'no_other_rule' THEN NULL
                 WHEN lookup_status IN ('nxdomain', 'no_records') AND sender_type IN ('isp', 'hosting')
                     THEN 'no PTR; an ISP or hosting network'
                 WHEN lookup_status IN ('nxdomain', 'no_records') THEN 'no PTR'
                 WHEN sender_type IN ('isp', 'hosting') THEN 'an ISP or hosting network'
            END
        WHEN dkim_passed AND NOT dkim_aligned THEN 'sign with a DKIM key of your own domain (custom DKIM signing domain)'
        WHEN spf_passed AND NOT spf_aligned THEN 'send with a return-path (envelope from) under your own domain'
        ELSE 'add the source to your SPF record (include) or sign its mail with DKIM'
    END AS class_note
FROM ruled;

-- The records of counted reports that `rua enrich` classified, with who sent them and their
-- class as it stored them.
CREATE OR REPLACE VIEW stored_classes AS
SELECT
    * EXCLUDE (stored_sender, stored_sender_type, stored_sender_rule, stored_sender_confidence,
               stored_class_rule, stored_class, stored_class_note),
    stored_sender               AS sender,
    stored_sender_type          AS sender_type,
    stored_sender_rule          AS sender_rule,
    stored_sender_confidence    AS sender_confidence,
    stored_class_rule           AS class_rule,
    stored_class                AS class,
    stored_class_note           AS class_note
FROM report_records_stored
WHERE stored_class_rule IS NOT NULL;

-- Every record of a counted report with who sent it and its class: as `rua enrich` stored
-- them, and computed (computed_classes) for the records it has not classified yet. (A
-- reader that finds every record classified reads stored_classes alone: rua shadows this
-- view with a temporary one, sql/store/read_stored_classes.sql, since DuckDB would
-- otherwise still build computed_classes' joins, a tenth of a second each time.)
CREATE OR REPLACE VIEW classified_records AS
FROM stored_classes
UNION ALL BY NAME
FROM computed_classes;

-- classified_records with what is known of each record's address (`rua enrich`).
CREATE OR REPLACE VIEW report_records AS
SELECT
    c.* EXCLUDE (class_rule, class, class_note),
    ii.ptr,
    ii.ptr_confirmed,
    ii.asn,
    ii.as_name,
    ii.country,
    c.class_rule,
    c.class,
    c.class_note
FROM classified_records c
LEFT JOIN ip_info ii ON ii.ip = c.source_ip;

-- One row per record with its class alone, for analysts.
CREATE OR REPLACE VIEW record_classes AS
SELECT report_key, record_index, policy_domain, source_ip, sender, message_count, class, class_rule, class_note
FROM classified_records;

-- Whether a record passes the filters `rua summary` takes; NULL means no filter. `domain`
-- matches the policy domain or the From domain; `since`/`until` keep reports whose period
-- overlaps [since, until); `reporter` is a case-insensitive org_name pattern.
CREATE OR REPLACE MACRO passes_filters(domain, since, until, reporter,
        policy_domain, header_from, begin_at, end_at, org_name) AS
    (domain IS NULL OR policy_domain = lower(domain) OR header_from = lower(domain))
    AND (since IS NULL OR end_at > since)
    AND (until IS NULL OR begin_at < until)
    AND (reporter IS NULL OR org_name ILIKE reporter);

-- report_records_core narrowed by those filters.
CREATE OR REPLACE MACRO filtered_records(domain, since, until, reporter) AS TABLE
SELECT *
FROM report_records_core
WHERE passes_filters(domain, since, until, reporter, policy_domain, header_from, begin_at, end_at, org_name);

-- The same over classified_records, with who sent each record and its class.
CREATE OR REPLACE MACRO filtered_sent_records(domain, since, until, reporter) AS TABLE
SELECT *
FROM classified_records
WHERE passes_filters(domain, since, until, reporter, policy_domain, header_from, begin_at, end_at, org_name);

-- The same over report_records, with what is known of each address too (the summaries by
-- ASN and country, the senders of `rua policy` and of the report).
CREATE OR REPLACE MACRO filtered_located_records(domain, since, until, reporter) AS TABLE
SELECT *
FROM report_records
WHERE passes_filters(domain, since, until, reporter, policy_domain, header_from, begin_at, end_at, org_name);

-- Percentage of `part` in `total`, one decimal; NULL when there is nothing to divide.
CREATE OR REPLACE MACRO pct(part, total) AS round(100.0 * coalesce(part, 0) / nullif(total, 0), 1);

-- Each summary_by_*_for macro takes the filters above and returns one row per group with:
-- messages, dmarc_pass (messages passing by rua's alignment), dmarc_pass_pct,
-- dkim_aligned_pct, spf_aligned_pct, receiver_pass_pct (the receivers' own verdicts).
-- Exact distinct counts over millions of addresses cost more than everything else in a
-- summary, so they come separately: *_totals_for has the figures, *_spread_for the distinct
-- counts, and `rua summary --limit N` counts them for the N rows it shows only.

-- Per source address, message counts only (rates come after ranking: see summary_by_ip).
CREATE OR REPLACE MACRO ip_counts_for(domain, since, until, reporter) AS TABLE
SELECT
    source_ip,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)          AS dmarc_pass,
    coalesce(sum(message_count) FILTER (WHERE dkim_aligned), 0)        AS dkim_aligned,
    coalesce(sum(message_count) FILTER (WHERE spf_aligned), 0)         AS spf_aligned,
    coalesce(sum(message_count) FILTER (WHERE receiver_dmarc_pass), 0) AS receiver_pass
FROM filtered_records(domain, since, until, reporter)
GROUP BY source_ip;

-- Per source address: how many From domains it sent as, and how many receivers reported it.
CREATE OR REPLACE MACRO ip_spread_for(domain, since, until, reporter) AS TABLE
SELECT
    source_ip,
    count(DISTINCT header_from)                                      AS from_domains,
    count(DISTINCT org_name)                                         AS reporters
FROM filtered_records(domain, since, until, reporter)
GROUP BY source_ip;

CREATE OR REPLACE MACRO summary_by_ip_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(c.source_ip, '(invalid)')                               AS source_ip,
    c.messages,
    c.dmarc_pass,
    pct(c.dmarc_pass, c.messages)                                    AS dmarc_pass_pct,
    pct(c.dkim_aligned, c.messages)                                  AS dkim_aligned_pct,
    pct(c.spf_aligned, c.messages)                                   AS spf_aligned_pct,
    pct(c.receiver_pass, c.messages)                                 AS receiver_pass_pct,
    s.from_domains,
    s.reporters
FROM ip_counts_for(domain, since, until, reporter) c
JOIN ip_spread_for(domain, since, until, reporter) s ON s.source_ip IS NOT DISTINCT FROM c.source_ip;

CREATE OR REPLACE MACRO network_totals_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(source_network, '(invalid)')                            AS source_network,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct
FROM filtered_records(domain, since, until, reporter)
GROUP BY ALL;

-- Per network: how many addresses in it sent.
CREATE OR REPLACE MACRO network_spread_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(source_network, '(invalid)')                            AS source_network,
    count(DISTINCT source_ip)                                        AS source_ips
FROM filtered_records(domain, since, until, reporter)
GROUP BY ALL;

CREATE OR REPLACE MACRO summary_by_network_for(domain, since, until, reporter) AS TABLE
SELECT *
FROM network_totals_for(domain, since, until, reporter)
JOIN network_spread_for(domain, since, until, reporter) USING (source_network);

CREATE OR REPLACE MACRO summary_by_alignment_for(domain, since, until, reporter) AS TABLE
WITH flags AS (
    -- Summed by the four results first (at most 16 groups), named after.
    SELECT
        dkim_aligned, spf_aligned, dkim_passed, spf_passed,
        sum(message_count)                                           AS messages,
        sum(message_count) FILTER (WHERE receiver_dmarc_pass)        AS receiver_pass
    FROM filtered_records(domain, since, until, reporter)
    GROUP BY ALL
)
SELECT
    alignment_of(dkim_aligned, spf_aligned, dkim_passed, spf_passed) AS alignment,
    sum(messages)                                                    AS messages,
    coalesce(sum(messages) FILTER (WHERE dkim_aligned OR spf_aligned), 0)        AS dmarc_pass,
    pct(sum(messages) FILTER (WHERE dkim_aligned OR spf_aligned), sum(messages)) AS dmarc_pass_pct,
    pct(sum(messages) FILTER (WHERE dkim_aligned), sum(messages))                AS dkim_aligned_pct,
    pct(sum(messages) FILTER (WHERE spf_aligned), sum(messages))                 AS spf_aligned_pct,
    pct(sum(receiver_pass), sum(messages))                                       AS receiver_pass_pct
FROM flags
GROUP BY ALL;

CREATE OR REPLACE MACRO summary_by_domain_for(domain, since, until, reporter) AS TABLE
SELECT
    header_from                                                      AS from_domain,
    any_value(policy_domain)                                         AS policy_domain,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct
FROM filtered_records(domain, since, until, reporter)
GROUP BY header_from;

CREATE OR REPLACE MACRO summary_by_reporter_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(org_name, '(none)')                                     AS reporter,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct,
    count(DISTINCT report_key)                                       AS reports
FROM filtered_records(domain, since, until, reporter)
GROUP BY ALL;

-- Daily figures: a record whose report spans several UTC days is spread over those days in
-- proportion to the seconds of each day it covers; integer parts are handed out by largest
-- remainder, so each record's day counts sum exactly to its message_count. With
-- `with_class` (a literal true or false, so that DuckDB reads only one of the two), the
-- records come with who sent them and their class (filtered_sent_records).
CREATE OR REPLACE MACRO daily_records(domain, since, until, reporter, with_class) AS TABLE
WITH records_read AS (
    FROM filtered_sent_records(domain, since, until, reporter) WHERE with_class
    UNION ALL BY NAME
    FROM filtered_records(domain, since, until, reporter) WHERE NOT with_class
),
-- A report's first and last day, worked out once per report rather than per record.
report_days AS (
    SELECT
        report_key,
        date_trunc('day', begin_at) AS first_day,
        CASE WHEN end_at > begin_at THEN date_trunc('day', end_at - INTERVAL 1 MICROSECOND)
             ELSE date_trunc('day', begin_at) END AS last_day
    FROM counted_reports
),
spans AS (
    SELECT r.*, d.first_day, d.last_day
    FROM records_read r JOIN report_days d USING (report_key)
),
single AS (
    SELECT * EXCLUDE (first_day, last_day), CAST(first_day AS DATE) AS day, message_count AS day_messages
    FROM spans WHERE first_day = last_day
),
split AS (
    SELECT
        s.*,
        d.day_start,
        greatest(0, epoch(least(s.end_at, d.day_start + INTERVAL 1 DAY)) - epoch(greatest(s.begin_at, d.day_start)))::BIGINT AS covered,
        (epoch(s.end_at) - epoch(s.begin_at))::BIGINT AS span
    FROM spans s,
         LATERAL (SELECT unnest(generate_series(s.first_day, s.last_day, INTERVAL 1 DAY)) AS day_start) d
    WHERE s.first_day <> s.last_day
),
shares AS (
    SELECT
        *,
        (message_count::HUGEINT * covered) // span AS base,
        (message_count::HUGEINT * covered) % span AS remainder
    FROM split
),
ranked AS (
    SELECT
        *,
        message_count - sum(base) OVER (PARTITION BY report_key, record_index) AS leftover,
        row_number() OVER (PARTITION BY report_key, record_index ORDER BY remainder DESC, day_start) AS rank
    FROM shares
)
SELECT * FROM single
UNION ALL BY NAME
SELECT
    * EXCLUDE (first_day, last_day, day_start, covered, span, base, remainder, leftover, rank),
    CAST(day_start AS DATE) AS day,
    (base + CASE WHEN rank <= leftover THEN 1 ELSE 0 END)::BIGINT AS day_messages
FROM ranked;

CREATE OR REPLACE MACRO summary_by_day_for(domain, since, until, reporter) AS TABLE
SELECT
    day,
    sum(day_messages)                                                AS messages,
    coalesce(sum(day_messages) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
    pct(sum(day_messages) FILTER (WHERE dmarc_pass), sum(day_messages))          AS dmarc_pass_pct,
    pct(sum(day_messages) FILTER (WHERE dkim_aligned), sum(day_messages))        AS dkim_aligned_pct,
    pct(sum(day_messages) FILTER (WHERE spf_aligned), sum(day_messages))         AS spf_aligned_pct,
    pct(sum(day_messages) FILTER (WHERE receiver_dmarc_pass), sum(day_messages)) AS receiver_pass_pct
FROM daily_records(domain, since, until, reporter, false)
GROUP BY day;

-- By what the receiver did and why: every combination of override reasons is one group, so
-- each record is counted once.
CREATE OR REPLACE MACRO summary_by_disposition_for(domain, since, until, reporter) AS TABLE
WITH reasons AS (
    SELECT report_key, record_index,
           string_agg(DISTINCT coalesce(reason_type, reason_type_raw, '(empty)'), '+' ORDER BY coalesce(reason_type, reason_type_raw, '(empty)')) AS override_reasons
    FROM override_reasons
    GROUP BY ALL
)
SELECT
    coalesce(f.disposition, '(none given)')                          AS disposition,
    coalesce(r.override_reasons, '')                                 AS override_reasons,
    sum(f.message_count)                                             AS messages,
    coalesce(sum(f.message_count) FILTER (WHERE f.dmarc_pass), 0) AS dmarc_pass,
    pct(sum(f.message_count) FILTER (WHERE f.dmarc_pass), sum(f.message_count))          AS dmarc_pass_pct,
    pct(sum(f.message_count) FILTER (WHERE f.receiver_dmarc_pass), sum(f.message_count)) AS receiver_pass_pct
FROM filtered_records(domain, since, until, reporter) f
LEFT JOIN reasons r USING (report_key, record_index)
GROUP BY ALL;

-- Per class (compliant, forwarded, misconfigured, unauthorized) and the rule that decided.
CREATE OR REPLACE MACRO summary_by_class_for(domain, since, until, reporter) AS TABLE
SELECT
    class,
    class_rule,
    sum(message_count)                                               AS messages,
    pct(sum(message_count), sum(sum(message_count)) OVER ())         AS messages_pct,
    count(DISTINCT source_ip)                                        AS source_ips,
    string_agg(DISTINCT sender, ', ' ORDER BY sender)                AS senders
FROM filtered_sent_records(domain, since, until, reporter)
GROUP BY ALL;

-- Per class and, within it, per sender (unnamed sources by network): what to look at first
-- in each class, with the rule and the fix (class_note) when there is one.
CREATE OR REPLACE MACRO summary_by_class_sender_for(domain, since, until, reporter) AS TABLE
SELECT
    class,
    coalesce(sender, source_network, '(invalid)')                    AS sender,
    coalesce(sender_type, 'unknown')                                 AS sender_type,
    sum(message_count)                                               AS messages,
    pct(sum(message_count), sum(sum(message_count)) OVER (PARTITION BY class)) AS class_pct,
    count(DISTINCT source_ip)                                        AS source_ips,
    string_agg(DISTINCT class_rule, ', ' ORDER BY class_rule)        AS rules,
    string_agg(DISTINCT class_note, '; ' ORDER BY class_note)        AS notes
FROM filtered_sent_records(domain, since, until, reporter)
GROUP BY class, coalesce(sender, source_network, '(invalid)'), coalesce(sender_type, 'unknown');

-- Who sent it (`rua enrich`): per named sender, per network owner (ASN) and per country,
-- with the summaries' rates and the number of source addresses. Sources no rule named are
-- '(unknown)'; addresses not enriched yet have no ASN or country.
CREATE OR REPLACE MACRO summary_by_sender_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(sender, '(unknown)')                                    AS sender,
    coalesce(sender_type, 'unknown')                                 AS sender_type,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)        AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct,
    count(DISTINCT source_ip)                                        AS source_ips,
    string_agg(DISTINCT sender_rule, ', ' ORDER BY sender_rule)      AS rules
FROM filtered_sent_records(domain, since, until, reporter)
GROUP BY ALL;

CREATE OR REPLACE MACRO summary_by_asn_for(domain, since, until, reporter) AS TABLE
SELECT
    asn,
    max(as_name)                                                     AS as_name,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)        AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct,
    count(DISTINCT source_ip)                                        AS source_ips
FROM filtered_located_records(domain, since, until, reporter)
GROUP BY asn;

CREATE OR REPLACE MACRO summary_by_country_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(country, '(unknown)')                                   AS country,
    sum(message_count)                                               AS messages,
    coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0)        AS dmarc_pass,
    pct(sum(message_count) FILTER (WHERE dmarc_pass), sum(message_count))          AS dmarc_pass_pct,
    pct(sum(message_count) FILTER (WHERE dkim_aligned), sum(message_count))        AS dkim_aligned_pct,
    pct(sum(message_count) FILTER (WHERE spf_aligned), sum(message_count))         AS spf_aligned_pct,
    pct(sum(message_count) FILTER (WHERE receiver_dmarc_pass), sum(message_count)) AS receiver_pass_pct,
    count(DISTINCT source_ip)                                        AS source_ips
FROM filtered_located_records(domain, since, until, reporter)
GROUP BY ALL;

-- The same summaries, unfiltered, as views for analysts and BI tools.
CREATE OR REPLACE VIEW summary_by_ip AS FROM summary_by_ip_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_network AS FROM summary_by_network_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_alignment AS FROM summary_by_alignment_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_domain AS FROM summary_by_domain_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_reporter AS FROM summary_by_reporter_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_day AS FROM summary_by_day_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_disposition AS FROM summary_by_disposition_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_class AS FROM summary_by_class_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_class_sender AS FROM summary_by_class_sender_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_sender AS FROM summary_by_sender_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_asn AS FROM summary_by_asn_for(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW summary_by_country AS FROM summary_by_country_for(NULL, NULL, NULL, NULL);

-- The UTC day a report speaks for: the day holding the middle of its period (a report
-- of 00:00-23:59:59 is that day; one of 22:00 to 22:00 the next day is mostly the next day).
CREATE OR REPLACE MACRO report_day(begin_at, end_at) AS
    CAST(begin_at + (end_at - begin_at) / 2 AS DATE);

-- A published policy in words, with the defaults filled in and only what differs from them
-- shown: `p=none`, `p=quarantine pct=50`, `p=reject sp=none adkim=s t=y`. Reporters that
-- leave out a default and those that spell it out give the same text.
CREATE OR REPLACE MACRO policy_text(p, sp, np, pct, adkim, aspf, testing) AS
    concat_ws(' ',
        'p=' || coalesce(p, '?'),
        CASE WHEN coalesce(sp, p) IS DISTINCT FROM p THEN 'sp=' || sp END,
        CASE WHEN coalesce(np, sp, p) IS DISTINCT FROM coalesce(sp, p) THEN 'np=' || np END,
        CASE WHEN coalesce(pct, 100) <> 100 THEN 'pct=' || pct END,
        CASE WHEN adkim = 's' THEN 'adkim=s' END,
        CASE WHEN aspf = 's' THEN 'aspf=s' END,
        CASE WHEN testing = 'y' THEN 't=y' END);

-- Per policy domain and day, the policy most of that day's reports say was published (DNS
-- caches make reporters disagree for a day around a change).
CREATE OR REPLACE MACRO policy_days(domain, since, until, reporter) AS TABLE
WITH per_policy AS (
    SELECT policy_domain, report_day(begin_at, end_at) AS day,
           policy_text(policy_p, policy_sp, policy_np, policy_pct, policy_adkim, policy_aspf, policy_testing) AS policy,
           count(*) AS reports
    FROM counted_reports
    WHERE (domain IS NULL OR policy_domain = lower(domain))
      AND (since IS NULL OR end_at > since)
      AND (until IS NULL OR begin_at < until)
      AND (reporter IS NULL OR org_name ILIKE reporter)
    GROUP BY ALL
)
SELECT policy_domain, day, arg_max(policy, (reports, policy)) AS policy, sum(reports) AS reports
FROM per_policy
GROUP BY ALL;

-- The days a domain's published policy changed: the policy of the day before and after.
CREATE OR REPLACE MACRO policy_changes(domain, since, until, reporter) AS TABLE
SELECT policy_domain, day, previous, policy
FROM (
    SELECT *, lag(policy) OVER (PARTITION BY policy_domain ORDER BY day) AS previous
    FROM policy_days(domain, since, until, reporter)
)
WHERE previous <> policy;

-- Where `rua policy`'s window begins: `since`, else `days` days before the end of the
-- newest report rua holds.
CREATE OR REPLACE MACRO policy_since(since, days) AS
    coalesce(since, (SELECT max(end_at) FROM counted_reports) - to_days(CAST(days AS INTEGER)));

-- The records `rua policy` judges: the filters as for the summaries, over its window.
CREATE OR REPLACE MACRO policy_records(domain, since, until, reporter, days) AS TABLE
FROM filtered_sent_records(domain, policy_since(since, days), until, reporter);

-- The same over report_records_core (no sender, no class: cheaper).
CREATE OR REPLACE MACRO policy_core_records(domain, since, until, reporter, days) AS TABLE
FROM filtered_records(domain, policy_since(since, days), until, reporter);

-- Per policy domain: messages by class; what enforcement would stop; how much data there
-- is; the newest published policy. The base of `rua policy` (sql/queries/policy_*.sql).
-- A passing record is compliant, so only the failing ones are read with who sent them
-- (`failing`); and what fails with relaxed alignment fails with strict alignment too.
CREATE OR REPLACE MACRO policy_figures(domain, since, until, reporter, days) AS TABLE
WITH per_report AS (
    -- Records summed per report first; the report-level columns then come from the
    -- report's own row, not from every record.
    SELECT
        r.policy_domain,
        r.report_key,
        r.org_name,
        r.begin_at,
        r.end_at,
        policy_text(r.policy_p, r.policy_sp, r.policy_np, r.policy_pct, r.policy_adkim, r.policy_aspf, r.policy_testing) AS published,
        r.policy_p                                                                 AS p,
        coalesce(r.policy_pct, 100)                                                AS pct,
        coalesce(r.policy_testing, 'n')                                            AS testing,
        s.messages,
        s.compliant,
        s.compliant_failing_strict,
        s.compliant_quarantined,
        s.compliant_rejected
    FROM (
        SELECT
            report_key,
            sum(message_count)                                                         AS messages,
            sum(message_count) FILTER (WHERE dmarc_pass)                               AS compliant,
            sum(message_count) FILTER (WHERE dmarc_pass AND NOT dmarc_pass_strict)     AS compliant_failing_strict,
            sum(message_count) FILTER (WHERE dmarc_pass AND disposition = 'quarantine') AS compliant_quarantined,
            sum(message_count) FILTER (WHERE dmarc_pass AND disposition = 'reject')    AS compliant_rejected
        FROM policy_core_records(domain, since, until, reporter, days)
        GROUP BY report_key
    ) s
    JOIN counted_reports r USING (report_key)
),
everything AS (
    SELECT
        policy_domain                                                              AS domain,
        sum(messages)                                                              AS messages,
        coalesce(sum(compliant), 0)                                                AS compliant,
        coalesce(sum(compliant_failing_strict), 0)                                 AS compliant_failing_strict,
        coalesce(sum(compliant_quarantined), 0)                                    AS compliant_quarantined,
        coalesce(sum(compliant_rejected), 0)                                       AS compliant_rejected,
        count(DISTINCT report_day(begin_at, end_at))                               AS days,
        count(DISTINCT org_name)                                                   AS reporters,
        strftime(min(begin_at), '%Y-%m-%d')                                        AS first_day,
        strftime(max(end_at), '%Y-%m-%d')                                          AS last_day,
        arg_max(published, (end_at, report_key))                                   AS published,
        arg_max(p, (end_at, report_key))                                           AS p,
        arg_max(pct, (end_at, report_key))                                         AS pct,
        arg_max(testing, (end_at, report_key))                                     AS testing,
        min(begin_at)                                                              AS since,
        max(end_at)                                                                AS until
    FROM per_report
    GROUP BY policy_domain
),
failing_groups AS MATERIALIZED (
    -- The failing records, read once with who sent them, by what the rest needs. (Inside a
    -- macro `domain` is its parameter: these CTEs keep the column's own name.)
    SELECT policy_domain, class, sender, disposition, sum(message_count) AS messages
    FROM policy_records(domain, since, until, reporter, days)
    WHERE NOT dmarc_pass
    GROUP BY policy_domain, class, sender, disposition
),
to_fix AS (
    -- The misconfigured senders, most messages first.
    SELECT policy_domain,
           string_agg(sender || ' (' || messages || ')', ', ' ORDER BY messages DESC, sender) AS senders_to_fix
    FROM (
        SELECT policy_domain, sender, sum(messages) AS messages
        FROM failing_groups
        WHERE class = 'misconfigured'
        GROUP BY policy_domain, sender
    )
    GROUP BY policy_domain
),
failing AS (
    SELECT
        policy_domain,
        coalesce(sum(messages) FILTER (WHERE class = 'forwarded'), 0)          AS forwarded,
        coalesce(sum(messages) FILTER (WHERE class = 'misconfigured'), 0)      AS misconfigured,
        coalesce(sum(messages) FILTER (WHERE class = 'unauthorized'), 0)       AS unauthorized,
        coalesce(sum(messages) FILTER (WHERE class <> 'unauthorized' AND disposition = 'quarantine'), 0) AS legitimate_quarantined,
        coalesce(sum(messages) FILTER (WHERE class <> 'unauthorized' AND disposition = 'reject'), 0)     AS legitimate_rejected,
        coalesce(sum(messages) FILTER (WHERE class = 'unauthorized' AND disposition = 'quarantine'), 0)  AS unauthorized_quarantined,
        coalesce(sum(messages) FILTER (WHERE class = 'unauthorized' AND disposition = 'reject'), 0)      AS unauthorized_rejected
    FROM failing_groups
    GROUP BY policy_domain
)
SELECT
    e.domain,
    e.messages,
    e.compliant,
    coalesce(f.forwarded, 0)                                                       AS forwarded,
    coalesce(f.misconfigured, 0)                                                   AS misconfigured,
    coalesce(f.unauthorized, 0)                                                    AS unauthorized,
    -- Legitimate mail (every class but unauthorized) that fails DMARC as published, and
    -- with strict alignment.
    coalesce(f.forwarded, 0) + coalesce(f.misconfigured, 0)                        AS legitimate_failing,
    e.compliant_failing_strict + coalesce(f.forwarded, 0) + coalesce(f.misconfigured, 0) AS legitimate_failing_strict,
    coalesce(f.unauthorized, 0)                                                    AS unauthorized_failing_strict,
    -- What the receivers did: quarantined and rejected messages, legitimate or not.
    e.compliant_quarantined + coalesce(f.legitimate_quarantined, 0)                AS legitimate_quarantined,
    e.compliant_rejected + coalesce(f.legitimate_rejected, 0)                      AS legitimate_rejected,
    coalesce(f.unauthorized_quarantined, 0)                                        AS unauthorized_quarantined,
    coalesce(f.unauthorized_rejected, 0)                                           AS unauthorized_rejected,
    e.days,
    e.reporters,
    t.senders_to_fix,
    e.first_day,
    e.last_day,
    e.published,
    e.p,
    e.pct,
    e.testing,
    e.since,
    e.until
FROM everything e
LEFT JOIN failing f ON f.policy_domain IS NOT DISTINCT FROM e.domain
LEFT JOIN to_fix t ON t.policy_domain IS NOT DISTINCT FROM e.domain;

-- What `rua alerts` fires on: one row per event, keyed so that the same event always has
-- the same key (sql/store/raise_alerts.sql stores the new ones). Days are UTC report days
-- (report_day); "now" is the newest report's day, so old data is judged as it was seen and
-- a stalled mailbox raises nothing. Only events of the last `window_days` days are named.
-- The thresholds are the configuration's `[alerts]` (README "Alerts").
CREATE OR REPLACE MACRO alert_candidates(window_days, baseline_days, drop_points, rate_min_messages,
        spike_factor, spike_min_messages, silent_after_days, silent_min_days, new_source_min_messages) AS TABLE
WITH newest AS (
    SELECT max(report_day(begin_at, end_at)) AS day FROM counted_reports
),
first_days AS (
    SELECT policy_domain AS domain, min(report_day(begin_at, end_at)) AS first_day
    FROM counted_reports GROUP BY ALL
),
daily AS (
    SELECT
        policy_domain AS domain,
        report_day(begin_at, end_at) AS day,
        sum(message_count) AS messages,
        coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS passing,
        coalesce(sum(message_count) FILTER (WHERE class = 'unauthorized'), 0) AS unauthorized,
        coalesce(sum(message_count) FILTER (WHERE class <> 'unauthorized' AND disposition = 'reject'), 0) AS legitimate_rejected
    FROM classified_records
    GROUP BY ALL
),
-- Each recent day beside the baseline_days before it (days with reports only).
recent AS (
    SELECT d.domain, d.day, d.messages, d.passing, d.unauthorized, d.legitimate_rejected,
           count(b.day) AS base_days,
           coalesce(sum(b.messages), 0) AS base_messages,
           coalesce(sum(b.passing), 0) AS base_passing,
           coalesce(sum(b.unauthorized), 0) AS base_unauthorized
    FROM daily d
    LEFT JOIN daily b ON b.domain IS NOT DISTINCT FROM d.domain
                     AND b.day < d.day AND b.day >= d.day - CAST(baseline_days AS INTEGER)
    WHERE d.day > (FROM newest) - CAST(window_days AS INTEGER)
    GROUP BY ALL
),
sources AS (
    SELECT
        policy_domain AS domain,
        coalesce(sender, source_network, source_ip, '(invalid)') AS source,
        any_value(sender_type) AS sender_type,
        min(report_day(begin_at, end_at)) AS first_day,
        sum(message_count) AS messages,
        coalesce(sum(message_count) FILTER (WHERE class <> 'unauthorized'), 0) AS legitimate,
        count(DISTINCT source_ip) AS source_ips,
        string_agg(DISTINCT class, ', ' ORDER BY class) AS classes
    FROM classified_records
    GROUP BY ALL
),
reporter_days AS (
    SELECT DISTINCT policy_domain AS domain, coalesce(org_name, '(none)') AS reporter,
           report_day(begin_at, end_at) AS day
    FROM counted_reports
),
reporters AS (
    SELECT r.domain, r.reporter, r.last_day,
           count(*) FILTER (WHERE d.day > r.last_day - CAST(baseline_days AS INTEGER)) AS days_reported
    FROM (SELECT domain, reporter, max(day) AS last_day FROM reporter_days GROUP BY ALL) r
    JOIN reporter_days d USING (domain, reporter)
    GROUP BY ALL
),
rejected AS (
    SELECT ingest_run_id, count(*) AS inputs, min(rejected_at) AS rejected_at,
           array_to_string(list_slice(list(source ORDER BY reject_key), 1, 3), ', ')
               || CASE WHEN count(*) > 3 THEN ' and ' || (count(*) - 3) || ' more' ELSE '' END AS sources
    FROM rejects
    WHERE rejected_at > now()::TIMESTAMP - to_days(CAST(window_days AS INTEGER))
    GROUP BY ALL
)
SELECT 'pass_rate_drop/' || domain || '/' || day AS alert_key, 'pass_rate_drop' AS kind, domain, day,
       domain AS subject,
       'DMARC pass rate of ' || domain || ' fell to ' || pct(passing, messages) || '% on ' || day
           || ' (' || messages || ' messages), from ' || pct(base_passing, base_messages)
           || '% over the ' || base_days || ' days before' AS message,
       pct(passing, messages) AS value, pct(base_passing, base_messages) AS baseline
FROM recent
WHERE messages >= rate_min_messages AND base_messages >= rate_min_messages
  AND base_days * 2 >= baseline_days
  AND pct(base_passing, base_messages) - pct(passing, messages) >= drop_points
UNION ALL
SELECT 'unauthorized_spike/' || domain || '/' || day, 'unauthorized_spike', domain, day, domain,
       unauthorized || ' unauthorized messages as ' || domain || ' on ' || day || ', against '
           || round(base_unauthorized / base_days, 1) || ' a day over the ' || base_days || ' days before',
       unauthorized, round(base_unauthorized / base_days, 1)
FROM recent
WHERE unauthorized >= spike_min_messages
  AND base_days * 2 >= baseline_days
  AND unauthorized > spike_factor * base_unauthorized / base_days
UNION ALL
SELECT 'legitimate_rejected/' || domain || '/' || day, 'legitimate_rejected', domain, day, domain,
       'receivers rejected ' || legitimate_rejected || ' messages as ' || domain || ' on ' || day
           || ' that are not unauthorized (see rua policy --section senders)',
       legitimate_rejected, NULL
FROM recent
WHERE legitimate_rejected > 0
UNION ALL
SELECT 'new_source/' || s.domain || '/' || s.source, 'new_source', s.domain, s.first_day, s.source,
       'new source sending as ' || s.domain || ' since ' || s.first_day || ': ' || s.source
           || coalesce(' (' || s.sender_type || ')', '') || ', ' || s.messages || ' messages from '
           || s.source_ips || ' address' || CASE WHEN s.source_ips = 1 THEN '' ELSE 'es' END || ', ' || s.classes,
       s.messages, NULL
FROM sources s JOIN first_days f USING (domain)
WHERE s.first_day > (FROM newest) - CAST(window_days AS INTEGER)
  AND s.first_day - CAST(baseline_days AS INTEGER) >= f.first_day
  AND s.legitimate >= new_source_min_messages
UNION ALL
SELECT 'reporter_silent/' || domain || '/' || reporter || '/' || last_day, 'reporter_silent', domain,
       last_day + CAST(silent_after_days AS INTEGER) + 1, reporter,
       reporter || ' reported on ' || days_reported || ' of the ' || baseline_days || ' days up to '
           || last_day || ' for ' || domain || ' and has been silent since',
       (FROM newest) - last_day, days_reported
FROM reporters
WHERE (FROM newest) - last_day > silent_after_days
  AND days_reported >= silent_min_days
  AND last_day + CAST(silent_after_days AS INTEGER) + 1 > (FROM newest) - CAST(window_days AS INTEGER)
UNION ALL
SELECT 'policy_changed/' || policy_domain || '/' || day, 'policy_changed', policy_domain, day, policy,
       'published policy of ' || policy_domain || ' changed on ' || day || ': ' || previous || ' -> ' || policy,
       NULL, NULL
FROM policy_changes(NULL, NULL, NULL, NULL)
WHERE day > (FROM newest) - CAST(window_days AS INTEGER)
UNION ALL
SELECT 'rejected_inputs/' || ingest_run_id, 'rejected_inputs', NULL, CAST(rejected_at AS DATE), 'run ' || ingest_run_id,
       inputs || ' input' || CASE WHEN inputs = 1 THEN '' ELSE 's' END || ' could not be read (rua rejects): ' || sources,
       inputs, NULL
FROM rejected;

-- SMTP TLS reports (RFC 8460): conflicting copies left out, as for aggregate reports.
CREATE OR REPLACE VIEW counted_tls_reports AS
SELECT * EXCLUDE (raw_gz) FROM tls_reports WHERE conflict_of IS NULL;

-- One row per policy of a counted TLS report, with the report's organization and period.
CREATE OR REPLACE VIEW tls_policy_results AS
SELECT r.report_key, r.organization_name, r.report_id, r.begin_at, r.end_at,
       p.policy_index, p.policy_type, p.policy_domain, p.policy_strings, p.mx_hosts,
       p.successful_sessions, p.failed_sessions
FROM counted_tls_reports r JOIN tls_policies p USING (report_key);

-- Per policy domain and policy type: sessions, the success rate, and what failed (each result
-- type with its failed sessions), from how many sending MTAs, to which MX hosts. Filters as
-- for the other summaries (the domain is the policy domain, the reporter the organization).
CREATE OR REPLACE MACRO summary_by_tls_for(domain, since, until, reporter) AS TABLE
WITH policies AS (
    SELECT * FROM tls_policy_results
    WHERE (domain IS NULL OR policy_domain = lower(domain))
      AND (since IS NULL OR end_at > since)
      AND (until IS NULL OR begin_at < until)
      AND (reporter IS NULL OR organization_name ILIKE reporter)
),
failures AS (
    SELECT p.policy_domain, p.policy_type, coalesce(d.result_type, d.result_type_raw, '(none)') AS result,
           sum(d.failed_sessions) AS failed, d.sending_mta_ip, d.receiving_mx_hostname
    FROM policies p JOIN tls_failure_details d USING (report_key, policy_index)
    GROUP BY ALL
)
SELECT
    coalesce(p.policy_domain, '(none)')                          AS policy_domain,
    coalesce(p.policy_type, '(none)')                            AS policy_type,
    count(DISTINCT p.report_key)                                 AS reports,
    coalesce(sum(p.successful_sessions), 0) + coalesce(sum(p.failed_sessions), 0) AS sessions,
    coalesce(sum(p.failed_sessions), 0)                          AS failed_sessions,
    pct(sum(p.successful_sessions), coalesce(sum(p.successful_sessions), 0) + coalesce(sum(p.failed_sessions), 0)) AS success_pct,
    (SELECT string_agg(result || ' ' || failed, ', ' ORDER BY failed DESC, result)
     FROM (SELECT result, sum(failed) AS failed FROM failures f
           WHERE f.policy_domain IS NOT DISTINCT FROM p.policy_domain
             AND f.policy_type IS NOT DISTINCT FROM p.policy_type GROUP BY result)) AS failure_types,
    (SELECT count(DISTINCT sending_mta_ip) FROM failures f
     WHERE f.policy_domain IS NOT DISTINCT FROM p.policy_domain
       AND f.policy_type IS NOT DISTINCT FROM p.policy_type)    AS sending_mtas,
    (SELECT string_agg(DISTINCT receiving_mx_hostname, ', ' ORDER BY receiving_mx_hostname) FROM failures f
     WHERE f.policy_domain IS NOT DISTINCT FROM p.policy_domain
       AND f.policy_type IS NOT DISTINCT FROM p.policy_type)    AS failing_mx_hosts
FROM policies p
GROUP BY p.policy_domain, p.policy_type;

CREATE OR REPLACE VIEW summary_by_tls AS FROM summary_by_tls_for(NULL, NULL, NULL, NULL);

-- Failure reports (RFC 6591) beside what the aggregate reports say of the same source
-- address on the same UTC day: how many messages they counted from it and how many of those
-- passed DMARC by rua's alignment (NULL when no aggregate report covers it).
CREATE OR REPLACE VIEW failure_report_sources AS
SELECT f.report_key, f.arrival_date, f.source_ip, f.reported_domain, f.auth_failure,
       f.delivery_result, f.original_from, f.original_subject,
       agg.messages AS aggregate_messages, agg.dmarc_pass AS aggregate_dmarc_pass,
       agg.reporters AS aggregate_reporters
FROM failure_reports f
LEFT JOIN (
    SELECT source_ip, date_trunc('day', begin_at) AS day, sum(message_count) AS messages,
           coalesce(sum(message_count) FILTER (WHERE dmarc_pass), 0) AS dmarc_pass,
           string_agg(DISTINCT org_name, ', ' ORDER BY org_name) AS reporters
    FROM report_records_core GROUP BY ALL
) agg ON agg.source_ip = f.source_ip AND agg.day = date_trunc('day', f.arrival_date);

-- Per reported domain and source address: failure reports, their kinds of failure, what the
-- receivers did, the subjects seen, and the aggregate reports' count for that address.
CREATE OR REPLACE MACRO summary_by_failure_for(domain, since, until, reporter) AS TABLE
SELECT
    coalesce(f.reported_domain, '(none)')                                  AS reported_domain,
    coalesce(f.source_ip, f.source_ip_raw, '(none)')                        AS source_ip,
    count(*)                                                               AS reports,
    string_agg(DISTINCT f.auth_failure, ', ' ORDER BY f.auth_failure)       AS auth_failures,
    string_agg(DISTINCT f.delivery_result, ', ' ORDER BY f.delivery_result) AS delivery_results,
    string_agg(DISTINCT f.original_subject, ' | ' ORDER BY f.original_subject) AS subjects,
    min(f.arrival_date)                                                    AS first_arrival,
    max(f.arrival_date)                                                    AS last_arrival,
    (SELECT sum(message_count) FROM report_records_core r WHERE r.source_ip = f.source_ip) AS aggregate_messages
FROM failure_reports f
WHERE (domain IS NULL OR f.reported_domain = lower(domain))
  AND (since IS NULL OR f.arrival_date > since OR f.arrival_date IS NULL)
  AND (until IS NULL OR f.arrival_date < until OR f.arrival_date IS NULL)
  AND (reporter IS NULL OR f.user_agent ILIKE reporter OR f.message_from ILIKE reporter)
GROUP BY f.reported_domain, coalesce(f.source_ip, f.source_ip_raw, '(none)'), f.source_ip;

CREATE OR REPLACE VIEW summary_by_failure AS FROM summary_by_failure_for(NULL, NULL, NULL, NULL);
