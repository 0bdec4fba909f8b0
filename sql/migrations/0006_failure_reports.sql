-- DMARC failure reports (RFC 6591 ARF), one row per report: the ARF fields as named in RFC
-- 5965 and 6591 in snake case (fields that may repeat hold one value per line) and the
-- original message's headers that matter. Failure reports carry personal data: the original
-- body (original_body_gz) and the whole report mail (raw_gz) are kept only when the
-- configuration says so (database.keep_failure_bodies); the original's headers always are.

CREATE TABLE failure_reports (
    report_key              BIGINT PRIMARY KEY,
    ingest_run_id           BIGINT    NOT NULL,
    ingested_at             TIMESTAMP NOT NULL,
    feedback_type           VARCHAR,
    user_agent              VARCHAR,
    version                 VARCHAR,
    original_envelope_id    VARCHAR,
    original_mail_from      VARCHAR,
    original_rcpt_to        VARCHAR,
    arrival_date            TIMESTAMP,
    arrival_date_raw        VARCHAR,
    reporting_mta           VARCHAR,
    source_ip               VARCHAR,
    source_ip_raw           VARCHAR,
    incidents               VARCHAR,
    authentication_results  VARCHAR,
    auth_failure            VARCHAR,
    delivery_result         VARCHAR,
    dkim_domain             VARCHAR,
    dkim_identity           VARCHAR,
    dkim_selector           VARCHAR,
    spf_dns                 VARCHAR,
    identity_alignment      VARCHAR,
    reported_domain         VARCHAR,
    reported_uri            VARCHAR,
    feedback_report_raw     VARCHAR   NOT NULL,
    original_from           VARCHAR,
    original_to             VARCHAR,
    original_subject        VARCHAR,
    original_date           VARCHAR,
    original_message_id     VARCHAR,
    original_headers        VARCHAR,
    content_hash            VARCHAR   NOT NULL,  -- BLAKE3 of the fields and the original's headers
    payload_hash            VARCHAR   NOT NULL,
    payload_bytes           BIGINT    NOT NULL,
    source                  VARCHAR   NOT NULL,
    source_chain            VARCHAR   NOT NULL,
    file_name               VARCHAR,
    message_id              VARCHAR,
    message_subject         VARCHAR,
    message_from            VARCHAR,
    message_date            VARCHAR,
    original_body_gz        BLOB USING COMPRESSION uncompressed,
    raw_gz                  BLOB USING COMPRESSION uncompressed
);
