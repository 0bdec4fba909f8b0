-- SMTP TLS reports (RFC 8460), read into tables of their own. Identity and duplicates as for
-- aggregate reports: (organization, report_id, begin, end) plus a content hash; a copy with
-- other content is kept with conflict_of set, and the views count only the first.

CREATE TABLE tls_reports (
    report_key           BIGINT PRIMARY KEY,
    ingest_run_id        BIGINT    NOT NULL,
    ingested_at          TIMESTAMP NOT NULL,
    organization_name    VARCHAR,
    contact_info         VARCHAR,
    report_id            VARCHAR   NOT NULL,
    begin_at             TIMESTAMP NOT NULL,
    end_at               TIMESTAMP NOT NULL,
    begin_raw            VARCHAR   NOT NULL,
    end_raw              VARCHAR   NOT NULL,
    n_policies           INTEGER   NOT NULL,
    content_hash         VARCHAR   NOT NULL,  -- BLAKE3 of the report's values as written
    payload_hash         VARCHAR   NOT NULL,  -- BLAKE3 of the JSON as parsed
    payload_bytes        BIGINT    NOT NULL,
    conflict_of          BIGINT,
    source               VARCHAR   NOT NULL,
    source_chain         VARCHAR   NOT NULL,
    file_name            VARCHAR,
    message_id           VARCHAR,
    message_subject      VARCHAR,
    message_from         VARCHAR,
    message_date         VARCHAR,
    raw_gz               BLOB USING COMPRESSION uncompressed  -- the JSON, gzip-compressed
);

-- One row per policies[] entry. policy_strings and mx_hosts hold one value per line.
CREATE TABLE tls_policies (
    report_key           BIGINT  NOT NULL,
    policy_index         INTEGER NOT NULL,
    policy_type          VARCHAR,            -- sts | tlsa | no-policy-found
    policy_type_raw      VARCHAR,
    policy_domain        VARCHAR,            -- lower case, no trailing dot
    policy_domain_raw    VARCHAR,
    policy_strings       VARCHAR,
    mx_hosts             VARCHAR,
    successful_sessions  BIGINT,             -- NULL when the report gave no number
    failed_sessions      BIGINT
);

CREATE TABLE tls_failure_details (
    report_key                 BIGINT  NOT NULL,
    policy_index               INTEGER NOT NULL,
    detail_index               INTEGER NOT NULL,
    result_type                VARCHAR,      -- RFC 8460 4.3 words; NULL when unknown (see _raw)
    result_type_raw            VARCHAR,
    sending_mta_ip             VARCHAR,
    sending_mta_ip_raw         VARCHAR,
    receiving_mx_hostname      VARCHAR,
    receiving_mx_hostname_raw  VARCHAR,
    receiving_mx_helo          VARCHAR,
    receiving_ip               VARCHAR,
    receiving_ip_raw           VARCHAR,
    failed_sessions            BIGINT,
    additional_information     VARCHAR,
    failure_reason_code        VARCHAR
);

CREATE TABLE tls_report_warnings (
    report_key  BIGINT  NOT NULL,
    code        VARCHAR NOT NULL,
    json_path   VARCHAR NOT NULL,
    raw_value   VARCHAR
);
