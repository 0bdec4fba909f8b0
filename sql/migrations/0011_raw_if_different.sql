-- rua schema, version 11: the reporter's own text is stored only where it differs from rua's
-- normalized value. Most of it does not (`pass` is `pass`, a lower-case domain is itself),
-- and the record-level tables hold nearly all of a database's rows. Each `*_raw` column of
-- records, dkim_results, spf_results and override_reasons is now a generated column that
-- reads `*_raw_if_different`, else the normalized value: it shows the same text as before,
-- to every query, view and export, and stores nothing for the common case. A raw value is
-- only ever absent where its normalized value is absent too (rua derives one from the
-- other), which the checks below confirm before anything is converted.

CREATE TEMP MACRO raw_if_different(raw, normalized) AS
    CASE WHEN raw IS NOT DISTINCT FROM normalized THEN NULL ELSE raw END;

SELECT error('records: a normalized value without the reporter''s text; not converted')
FROM records
WHERE (source_ip_raw IS NULL AND source_ip IS NOT NULL)
   OR (disposition_raw IS NULL AND disposition IS NOT NULL)
   OR (dkim_verdict_raw IS NULL AND dkim_verdict IS NOT NULL)
   OR (spf_verdict_raw IS NULL AND spf_verdict IS NOT NULL)
   OR (header_from_raw IS NULL AND header_from IS NOT NULL)
   OR (envelope_from_raw IS NULL AND envelope_from IS NOT NULL)
   OR (envelope_to_raw IS NULL AND envelope_to IS NOT NULL)
LIMIT 1;

SELECT error('dkim_results: a normalized value without the reporter''s text; not converted')
FROM dkim_results
WHERE (domain_raw IS NULL AND domain IS NOT NULL) OR (result_raw IS NULL AND result IS NOT NULL)
LIMIT 1;

SELECT error('spf_results: a normalized value without the reporter''s text; not converted')
FROM spf_results
WHERE (domain_raw IS NULL AND domain IS NOT NULL) OR (scope_raw IS NULL AND scope IS NOT NULL)
   OR (result_raw IS NULL AND result IS NOT NULL)
LIMIT 1;

SELECT error('override_reasons: a normalized value without the reporter''s text; not converted')
FROM override_reasons
WHERE reason_type_raw IS NULL AND reason_type IS NOT NULL
LIMIT 1;

CREATE TABLE records_0011 (
    report_key            BIGINT  NOT NULL,
    record_index          INTEGER NOT NULL,  -- 0-based position in the report
    source_ip             VARCHAR,           -- canonical text; NULL when source_ip_raw is not an address
    source_ip_raw         VARCHAR AS (coalesce(source_ip_raw_if_different, source_ip)),
    source_network        VARCHAR,           -- the /24 (IPv4) or /64 (IPv6) holding source_ip
    message_count         BIGINT  NOT NULL,
    disposition           VARCHAR,           -- none | pass | quarantine | reject
    disposition_raw       VARCHAR AS (coalesce(disposition_raw_if_different, disposition)),
    dkim_verdict          VARCHAR,           -- the receiver's policy_evaluated/dkim: pass | fail
    dkim_verdict_raw      VARCHAR AS (coalesce(dkim_verdict_raw_if_different, dkim_verdict)),
    spf_verdict           VARCHAR,           -- the receiver's policy_evaluated/spf: pass | fail
    spf_verdict_raw       VARCHAR AS (coalesce(spf_verdict_raw_if_different, spf_verdict)),
    header_from           VARCHAR,           -- lower case, no trailing dot
    header_from_raw       VARCHAR AS (coalesce(header_from_raw_if_different, header_from)),
    envelope_from         VARCHAR,
    envelope_from_raw     VARCHAR AS (coalesce(envelope_from_raw_if_different, envelope_from)),
    envelope_to           VARCHAR,
    envelope_to_raw       VARCHAR AS (coalesce(envelope_to_raw_if_different, envelope_to)),
    header_from_org       VARCHAR,           -- organizational domain of header_from (Public Suffix List)
    n_dkim_results        INTEGER NOT NULL,
    n_spf_results         INTEGER NOT NULL,
    dkim_passed           BOOLEAN NOT NULL,  -- some DKIM result passed, aligned or not
    spf_passed            BOOLEAN NOT NULL,  -- some SPF result (MAIL FROM) passed, aligned or not
    dkim_aligned_relaxed  BOOLEAN NOT NULL,
    dkim_aligned_strict   BOOLEAN NOT NULL,
    spf_aligned_relaxed   BOOLEAN NOT NULL,
    spf_aligned_strict    BOOLEAN NOT NULL,
    dkim_signer           VARCHAR,
    -- The reporter's text where it differs from the normalized value; NULL where it is the same.
    source_ip_raw_if_different      VARCHAR,
    disposition_raw_if_different    VARCHAR,
    dkim_verdict_raw_if_different   VARCHAR,
    spf_verdict_raw_if_different    VARCHAR,
    header_from_raw_if_different    VARCHAR,
    envelope_from_raw_if_different  VARCHAR,
    envelope_to_raw_if_different    VARCHAR
);
INSERT INTO records_0011 (
    report_key, record_index, source_ip, source_network, message_count, disposition,
    dkim_verdict, spf_verdict, header_from, envelope_from, envelope_to, header_from_org,
    n_dkim_results, n_spf_results, dkim_passed, spf_passed, dkim_aligned_relaxed,
    dkim_aligned_strict, spf_aligned_relaxed, spf_aligned_strict, dkim_signer,
    source_ip_raw_if_different, disposition_raw_if_different, dkim_verdict_raw_if_different,
    spf_verdict_raw_if_different, header_from_raw_if_different, envelope_from_raw_if_different,
    envelope_to_raw_if_different)
SELECT
    report_key, record_index, source_ip, source_network, message_count, disposition,
    dkim_verdict, spf_verdict, header_from, envelope_from, envelope_to, header_from_org,
    n_dkim_results, n_spf_results, dkim_passed, spf_passed, dkim_aligned_relaxed,
    dkim_aligned_strict, spf_aligned_relaxed, spf_aligned_strict, dkim_signer,
    raw_if_different(source_ip_raw, source_ip), raw_if_different(disposition_raw, disposition),
    raw_if_different(dkim_verdict_raw, dkim_verdict), raw_if_different(spf_verdict_raw, spf_verdict),
    raw_if_different(header_from_raw, header_from), raw_if_different(envelope_from_raw, envelope_from),
    raw_if_different(envelope_to_raw, envelope_to)
FROM records;
DROP TABLE records;
ALTER TABLE records_0011 RENAME TO records;

CREATE TABLE dkim_results_0011 (
    report_key    BIGINT  NOT NULL,
    record_index  INTEGER NOT NULL,
    result_index  INTEGER NOT NULL,  -- document order within the record
    domain        VARCHAR,
    domain_raw    VARCHAR AS (coalesce(domain_raw_if_different, domain)),
    selector      VARCHAR,
    result        VARCHAR,           -- none | pass | fail | softfail | neutral | policy | temperror | permerror
    result_raw    VARCHAR AS (coalesce(result_raw_if_different, result)),
    human_result  VARCHAR,
    domain_raw_if_different  VARCHAR,
    result_raw_if_different  VARCHAR
);
INSERT INTO dkim_results_0011 (report_key, record_index, result_index, domain, selector, result,
    human_result, domain_raw_if_different, result_raw_if_different)
SELECT report_key, record_index, result_index, domain, selector, result, human_result,
    raw_if_different(domain_raw, domain), raw_if_different(result_raw, result)
FROM dkim_results;
DROP TABLE dkim_results;
ALTER TABLE dkim_results_0011 RENAME TO dkim_results;

CREATE TABLE spf_results_0011 (
    report_key    BIGINT  NOT NULL,
    record_index  INTEGER NOT NULL,
    result_index  INTEGER NOT NULL,
    domain        VARCHAR,
    domain_raw    VARCHAR AS (coalesce(domain_raw_if_different, domain)),
    scope         VARCHAR,           -- helo | mfrom
    scope_raw     VARCHAR AS (coalesce(scope_raw_if_different, scope)),
    result        VARCHAR,
    result_raw    VARCHAR AS (coalesce(result_raw_if_different, result)),
    human_result  VARCHAR,
    domain_raw_if_different  VARCHAR,
    scope_raw_if_different   VARCHAR,
    result_raw_if_different  VARCHAR
);
INSERT INTO spf_results_0011 (report_key, record_index, result_index, domain, scope, result,
    human_result, domain_raw_if_different, scope_raw_if_different, result_raw_if_different)
SELECT report_key, record_index, result_index, domain, scope, result, human_result,
    raw_if_different(domain_raw, domain), raw_if_different(scope_raw, scope),
    raw_if_different(result_raw, result)
FROM spf_results;
DROP TABLE spf_results;
ALTER TABLE spf_results_0011 RENAME TO spf_results;

CREATE TABLE override_reasons_0011 (
    report_key        BIGINT  NOT NULL,
    record_index      INTEGER NOT NULL,
    reason_index      INTEGER NOT NULL,
    reason_type       VARCHAR,       -- forwarded | sampled_out | trusted_forwarder | mailing_list | local_policy | policy_test_mode | other
    reason_type_raw   VARCHAR AS (coalesce(reason_type_raw_if_different, reason_type)),
    comment           VARCHAR,
    reason_type_raw_if_different  VARCHAR
);
INSERT INTO override_reasons_0011 (report_key, record_index, reason_index, reason_type, comment,
    reason_type_raw_if_different)
SELECT report_key, record_index, reason_index, reason_type, comment,
    raw_if_different(reason_type_raw, reason_type)
FROM override_reasons;
DROP TABLE override_reasons;
ALTER TABLE override_reasons_0011 RENAME TO override_reasons;

DROP MACRO raw_if_different;
