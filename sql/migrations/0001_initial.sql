-- rua schema, version 1. Table and column names are an interface for analysts and exports:
-- change them only with a new migration and a README update.

CREATE TABLE schema_version (
    version     INTEGER   NOT NULL,
    applied_at  TIMESTAMP NOT NULL,
    rua_version VARCHAR   NOT NULL
);

CREATE TABLE ingest_runs (
    run_id         BIGINT PRIMARY KEY,
    command        VARCHAR   NOT NULL,
    rua_version    VARCHAR   NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,            -- NULL while running, or if the run was killed
    status         VARCHAR   NOT NULL,   -- running | ok | rejects | failed
    n_payloads     BIGINT,
    n_reports_new  BIGINT,
    n_duplicates   BIGINT,
    n_conflicts    BIGINT,
    n_rejects      BIGINT,
    n_other        BIGINT,
    n_records      BIGINT,
    n_messages     BIGINT,
    bytes_read     BIGINT,
    duration_ms    BIGINT
);

-- One row per distinct report received. A report whose identity (reporting organisation,
-- report_id, policy domain, begin, end) was seen before with other content is kept with
-- conflict_of set to the report it conflicts with; views count only conflict_of IS NULL.
CREATE TABLE reports (
    report_key                   BIGINT PRIMARY KEY,
    ingest_run_id                BIGINT    NOT NULL,
    ingested_at                  TIMESTAMP NOT NULL,
    org_name                     VARCHAR,
    org_email                    VARCHAR,
    extra_contact_info           VARCHAR,
    report_id                    VARCHAR   NOT NULL,
    begin_at                     TIMESTAMP NOT NULL,
    end_at                       TIMESTAMP NOT NULL,
    begin_raw                    VARCHAR   NOT NULL,
    end_raw                      VARCHAR   NOT NULL,
    generator                    VARCHAR,
    policy_domain                VARCHAR,  -- lower case, no trailing dot
    policy_domain_raw            VARCHAR,
    policy_adkim                 VARCHAR,  -- r | s | NULL (absent or unknown: see *_raw)
    policy_adkim_raw             VARCHAR,
    policy_aspf                  VARCHAR,
    policy_aspf_raw              VARCHAR,
    policy_p                     VARCHAR,  -- none | quarantine | reject
    policy_p_raw                 VARCHAR,
    policy_sp                    VARCHAR,
    policy_sp_raw                VARCHAR,
    policy_np                    VARCHAR,
    policy_np_raw                VARCHAR,
    policy_pct                   INTEGER,
    policy_pct_raw               VARCHAR,
    policy_fo                    VARCHAR,
    policy_testing               VARCHAR,  -- n | y (RFC 9990)
    policy_testing_raw           VARCHAR,
    policy_discovery_method      VARCHAR,  -- psl | treewalk (RFC 9990)
    policy_discovery_method_raw  VARCHAR,
    xml_namespace                VARCHAR,
    xml_version                  VARCHAR,
    is_dmarcbis                  BOOLEAN   NOT NULL,
    is_recovered                 BOOLEAN   NOT NULL,
    n_records                    BIGINT    NOT NULL,
    n_messages                   BIGINT    NOT NULL,
    content_hash                 VARCHAR   NOT NULL,  -- BLAKE3 of the parsed values (see README)
    payload_bytes                BIGINT    NOT NULL,
    conflict_of                  BIGINT,
    source                       VARCHAR   NOT NULL,  -- file path, '-' or IMAP location
    source_chain                 VARCHAR   NOT NULL,  -- containers, e.g. message > part 1.2 > gzip
    file_name                    VARCHAR,
    message_id                   VARCHAR,
    message_subject              VARCHAR,
    message_from                 VARCHAR,
    message_date                 VARCHAR,
    raw_payload_gz               BLOB                 -- the XML, gzip-compressed (for rua reparse)
);

CREATE TABLE report_errors (
    report_key   BIGINT  NOT NULL,
    error_index  INTEGER NOT NULL,
    message      VARCHAR NOT NULL
);

CREATE TABLE report_warnings (
    report_key         BIGINT  NOT NULL,
    code               VARCHAR NOT NULL,
    element_path       VARCHAR NOT NULL,
    raw_value          VARCHAR,
    occurrences        BIGINT  NOT NULL,
    first_byte_offset  BIGINT  NOT NULL
);

CREATE TABLE records (
    report_key            BIGINT  NOT NULL,
    record_index          INTEGER NOT NULL,  -- 0-based position in the report
    source_ip             VARCHAR,           -- canonical text; NULL when source_ip_raw is not an address
    source_ip_raw         VARCHAR NOT NULL,
    source_network        VARCHAR,           -- the /24 (IPv4) or /64 (IPv6) holding source_ip
    message_count         BIGINT  NOT NULL,
    disposition           VARCHAR,           -- none | pass | quarantine | reject
    disposition_raw       VARCHAR,
    dkim_verdict          VARCHAR,           -- the receiver's policy_evaluated/dkim: pass | fail
    dkim_verdict_raw      VARCHAR,
    spf_verdict           VARCHAR,           -- the receiver's policy_evaluated/spf: pass | fail
    spf_verdict_raw       VARCHAR,
    header_from           VARCHAR,           -- lower case, no trailing dot
    header_from_raw       VARCHAR,
    envelope_from         VARCHAR,
    envelope_from_raw     VARCHAR,
    envelope_to           VARCHAR,
    envelope_to_raw       VARCHAR,
    header_from_org       VARCHAR,           -- organizational domain of header_from (Public Suffix List)
    n_dkim_results        INTEGER NOT NULL,
    n_spf_results         INTEGER NOT NULL,
    -- Alignment computed by rua from the auth results, in both modes; the views pick the
    -- mode the report's policy asks for (adkim/aspf, relaxed when absent).
    dkim_passed           BOOLEAN NOT NULL,  -- some DKIM result passed, aligned or not
    spf_passed            BOOLEAN NOT NULL,  -- some SPF result (MAIL FROM) passed, aligned or not
    dkim_aligned_relaxed  BOOLEAN NOT NULL,
    dkim_aligned_strict   BOOLEAN NOT NULL,
    spf_aligned_relaxed   BOOLEAN NOT NULL,
    spf_aligned_strict    BOOLEAN NOT NULL
);

CREATE TABLE dkim_results (
    report_key    BIGINT  NOT NULL,
    record_index  INTEGER NOT NULL,
    result_index  INTEGER NOT NULL,  -- document order within the record
    domain        VARCHAR,
    domain_raw    VARCHAR,
    selector      VARCHAR,
    result        VARCHAR,           -- none | pass | fail | softfail | neutral | policy | temperror | permerror
    result_raw    VARCHAR,
    human_result  VARCHAR
);

CREATE TABLE spf_results (
    report_key    BIGINT  NOT NULL,
    record_index  INTEGER NOT NULL,
    result_index  INTEGER NOT NULL,
    domain        VARCHAR,
    domain_raw    VARCHAR,
    scope         VARCHAR,           -- helo | mfrom
    scope_raw     VARCHAR,
    result        VARCHAR,
    result_raw    VARCHAR,
    human_result  VARCHAR
);

CREATE TABLE override_reasons (
    report_key        BIGINT  NOT NULL,
    record_index      INTEGER NOT NULL,
    reason_index      INTEGER NOT NULL,
    reason_type       VARCHAR,       -- forwarded | sampled_out | trusted_forwarder | mailing_list | local_policy | policy_test_mode | other
    reason_type_raw   VARCHAR,
    comment           VARCHAR
);

-- Payloads that could not be read as reports, kept with their bytes and why.
CREATE TABLE rejects (
    reject_key        BIGINT PRIMARY KEY,
    ingest_run_id     BIGINT    NOT NULL,
    rejected_at       TIMESTAMP NOT NULL,
    payload_kind      VARCHAR   NOT NULL,  -- aggregate | smtp_tls | failure | not_report | container
    reason_code       VARCHAR   NOT NULL,
    reason            VARCHAR   NOT NULL,
    source            VARCHAR   NOT NULL,
    source_chain      VARCHAR   NOT NULL,
    file_name         VARCHAR,
    message_id        VARCHAR,
    message_subject   VARCHAR,
    message_from      VARCHAR,
    payload_hash      VARCHAR   NOT NULL,  -- BLAKE3 of the kept bytes
    payload_bytes     BIGINT    NOT NULL,
    raw_gz            BLOB                 -- the kept bytes, gzip-compressed
);

-- SMTP TLS and failure reports: classified and kept until rua ingests them.
CREATE TABLE other_payloads (
    payload_key       BIGINT PRIMARY KEY,
    ingest_run_id     BIGINT    NOT NULL,
    ingested_at       TIMESTAMP NOT NULL,
    payload_kind      VARCHAR   NOT NULL,  -- smtp_tls | failure
    source            VARCHAR   NOT NULL,
    source_chain      VARCHAR   NOT NULL,
    file_name         VARCHAR,
    message_id        VARCHAR,
    message_subject   VARCHAR,
    message_from      VARCHAR,
    payload_hash      VARCHAR   NOT NULL,
    payload_bytes     BIGINT    NOT NULL,
    raw_gz            BLOB
);
