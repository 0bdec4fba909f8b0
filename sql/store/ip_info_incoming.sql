-- Where `rua enrich` appends a batch of address facts before save_ip_info.sql moves them
-- into ip_info (ptr_names space-separated, looked_up_at in seconds since the epoch).
CREATE TEMP TABLE IF NOT EXISTS ip_info_incoming (
    ip                 VARCHAR,
    ptr                VARCHAR,
    ptr_names          VARCHAR,
    ptr_confirmed      BOOLEAN,
    ptr_org_domain     VARCHAR,
    status             VARCHAR,
    looked_up_at       BIGINT,
    asn                BIGINT,
    as_name            VARCHAR,
    as_domain          VARCHAR,
    country            VARCHAR,
    ip_databases       VARCHAR,
    sender             VARCHAR,
    sender_type        VARCHAR,
    sender_rule        VARCHAR,
    sender_confidence  VARCHAR
)
