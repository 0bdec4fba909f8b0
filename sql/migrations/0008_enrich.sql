-- rua schema, version 8: who sent it (`rua enrich`). Filled after ingest, never while parsing.

-- One row per source address (records.source_ip) rua has looked at. No PRIMARY KEY: DuckDB
-- keeps such an index in memory, which millions of addresses would not fit under a writer's
-- memory limit; `rua enrich` replaces a row by deleting it and inserting the new one in the
-- same transaction (sql/store/save_ip_info.sql).
CREATE TABLE ip_info (
    ip                 VARCHAR NOT NULL,
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

-- The user's verdicts on named senders (`[[enrich.source]]`), per policy domain or for every
-- one (policy_domain NULL); rewritten by every `rua enrich`.
CREATE TABLE source_overrides (
    policy_domain      VARCHAR,
    sender             VARCHAR NOT NULL,
    authorized         BOOLEAN NOT NULL
);

-- The IP databases and sender rules the last `rua enrich` used: when they change, every
-- address's network and sender are worked out again (without DNS).
CREATE TABLE enrich_state (
    name   VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);

-- The passing DKIM signing domain that names who sent a record: the first that does not
-- align with the From domain, else the first. Records stored before this version get it
-- from `rua enrich`, a bounded batch of reports at a time (sql/store/backfill_dkim_signer.sql):
-- one UPDATE of ten million records here took 50 s and 600 MB.
ALTER TABLE records ADD COLUMN dkim_signer VARCHAR;
INSERT INTO enrich_state
SELECT 'dkim_signer_backfill', '0 ' || max(report_key) FROM records HAVING count(*) > 0;
