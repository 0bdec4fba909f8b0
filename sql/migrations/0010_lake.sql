-- rua schema, version 10: what this database published to a Parquet lake (`rua export
-- --incremental`, `[lake]`). A report's rows go to the files of one batch: the publish that
-- first wrote it, or the compaction that merged that publish's file. Files are named after
-- the node and the batch, so that writing a batch again (after a crash, or after `rua
-- reparse` changed one of its reports) replaces its files and never adds a second copy.
CREATE TABLE lake_batches (
    batch_id     BIGINT PRIMARY KEY,
    lake_path    VARCHAR   NOT NULL,   -- the lake's root directory, as given
    node         VARCHAR   NOT NULL,   -- this database's node name in the lake
    kind         VARCHAR   NOT NULL,   -- publish | compact
    state        VARCHAR   NOT NULL,   -- writing | done (writing after a crash: done again by the next publish)
    created_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);

-- Every report published, with its batch and its month partition. `changed` is set by
-- `rua reparse` when the report's rows were replaced; the next publish writes its batch's
-- files for that month again and clears it.
CREATE TABLE lake_reports (
    kind        VARCHAR NOT NULL,      -- aggregate | tls | failure
    report_key  BIGINT  NOT NULL,
    batch_id    BIGINT  NOT NULL,
    month       VARCHAR NOT NULL,      -- YYYY-MM of the report's begin (UTC)
    changed     BOOLEAN NOT NULL,
    PRIMARY KEY (kind, report_key)
);

-- The files a batch wrote, per dataset and month (paths relative to the lake's root).
CREATE TABLE lake_files (
    batch_id     BIGINT  NOT NULL,
    dataset      VARCHAR NOT NULL,     -- records | reports | tls_policies | failure_reports
    month        VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    n_rows       BIGINT  NOT NULL,
    bytes        BIGINT  NOT NULL,
    modified_ms  BIGINT  NOT NULL      -- the file's modification time, ms since the epoch
);

-- Which batches a compaction merged, per month (kept until the compaction is done).
CREATE TABLE lake_merges (
    batch_id         BIGINT  NOT NULL, -- the compaction's batch
    merged_batch_id  BIGINT  NOT NULL,
    month            VARCHAR NOT NULL
);
