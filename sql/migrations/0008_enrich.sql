-- rua schema, version 8: who sent it (`rua enrich`). Filled after ingest, never while parsing.

-- One row per source address (records.source_ip) rua has looked at.
CREATE TABLE ip_info (
    ip                 VARCHAR PRIMARY KEY,
    ptr                VARCHAR,             -- the first forward-confirmed PTR name, else the first name
    ptr_names          VARCHAR[],           -- every PTR name, in the order the DNS gave them
    ptr_confirmed      BOOLEAN,             -- ptr resolves back to ip; NULL: no name, or the check got no answer
    ptr_org_domain     VARCHAR,             -- organizational domain of ptr (Public Suffix List)
    status             VARCHAR   NOT NULL,  -- ok | nxdomain | no_records | private | timeout | servfail | error | not_looked_up
    looked_up_at       TIMESTAMP,           -- when the DNS answered (or failed to); NULL: never asked
    asn                BIGINT,
    as_name            VARCHAR,
    as_domain          VARCHAR,
    country            VARCHAR,             -- ISO 3166-1 alpha-2
    ip_databases       VARCHAR,             -- the MMDB files that answered, comma-separated
    sender             VARCHAR,             -- by the address alone (report_records adds DKIM)
    sender_type        VARCHAR,
    sender_rule        VARCHAR,             -- config | ptr | as_domain | as_name
    sender_confidence  VARCHAR,             -- high | medium | low
    updated_at         TIMESTAMP NOT NULL
);

-- Senders named by passing DKIM signing domains (records.dkim_signer), by rua's map and the
-- configuration; rewritten by every `rua enrich`.
CREATE TABLE dkim_senders (
    domain             VARCHAR PRIMARY KEY,
    sender             VARCHAR NOT NULL,
    sender_type        VARCHAR NOT NULL,
    sender_rule        VARCHAR NOT NULL,    -- config | dkim
    sender_confidence  VARCHAR NOT NULL
);

-- The IP databases and sender rules the last `rua enrich` used: when they change, every
-- address's network and sender are worked out again (without DNS).
CREATE TABLE enrich_state (
    name   VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);

-- The passing DKIM signing domain that names who sent a record: the first that does not
-- align with the From domain, else the first.
ALTER TABLE records ADD COLUMN dkim_signer VARCHAR;

UPDATE records SET dkim_signer = s.domain
FROM (
    SELECT
        d.report_key,
        d.record_index,
        arg_min(
            d.domain,
            (CASE WHEN d.domain = r.header_from_org OR d.domain LIKE '%.' || r.header_from_org THEN 1 ELSE 0 END) * 1000000
                + d.result_index
        ) AS domain
    FROM dkim_results d
    JOIN records r USING (report_key, record_index)
    WHERE d.result = 'pass' AND d.domain IS NOT NULL AND d.domain <> ''
    GROUP BY ALL
) s
WHERE records.report_key = s.report_key AND records.record_index = s.record_index;
