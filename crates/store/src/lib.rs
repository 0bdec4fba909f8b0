//! rua's DuckDB store: one embedded database file holding every report, record, reject and
//! ingest run.
//!
//! [`Store::open`] waits for a writer lock held by another process, applies the numbered
//! migrations in `sql/migrations` and recreates the views in `sql/views.sql`. Ingest is
//! idempotent: a report's identity (organisation, report_id, policy domain, begin, end) and
//! its content hash decide whether it is new, a duplicate (nothing is written) or a conflict
//! (kept, flagged, never counted twice). Each report's rows are committed together; reports
//! are batched per transaction for speed. This is the only crate that links DuckDB.

mod columns;
mod content;
mod export;
mod ingest;
mod query;
mod reparse;
mod schema;
mod source_state;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use content::{Content, PayloadHash, PayloadTee};
pub use export::{ExportFormat, ExportSpec};
pub use ingest::{
    INGESTED_TABLES, Origin, Outcome, ParsedReport, RejectRow, ReportWriter, RunCounts,
};
pub use query::{Param, QueryResult, Value};
pub use reparse::{StoredPayload, StoredReject};
pub use source_state::FolderState;

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long to wait for another rua process that holds the database.
    pub lock_timeout: Duration,
    pub is_read_only: bool,
    /// Keep each accepted report's XML (compressed) for `rua reparse`.
    pub keep_raw: bool,
    /// DuckDB's memory limit when writing (e.g. `128MB`); DuckDB's default (80% of RAM)
    /// when None. Readers always get DuckDB's default.
    pub memory_limit: Option<String>,
    /// DuckDB's threads when writing; DuckDB's default (one per core) when None. Ingest
    /// wants one: it appends on a thread of its own, and a DuckDB thread beside it only
    /// competed with the parsers for the cores (100,000 typical reports on 2 cores: 34 s
    /// instead of 38–42 s).
    pub threads: Option<i64>,
    /// Records the writer's transaction takes before it commits, unless a caller needs the
    /// reports durable sooner ([`Store::hand_over`], [`Store::commit`]).
    pub commit_records: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(60),
            is_read_only: false,
            keep_raw: true,
            memory_limit: None,
            threads: None,
            commit_records: ingest::COMMIT_RECORDS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path} is in use by another process (waited {waited_ms} ms): {source}")]
    Locked {
        path: PathBuf,
        waited_ms: u128,
        source: duckdb::Error,
    },
    #[error(
        "database {path} was written by a newer rua (schema version {found}, this rua knows up to {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error(
        "database {path} is incomplete ({n_bytes} bytes): a process was killed while creating it; the next `rua ingest` creates it again"
    )]
    Incomplete { path: PathBuf, n_bytes: u64 },
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: duckdb::Error },
    #[error("{context}: {source}")]
    Db {
        context: &'static str,
        source: duckdb::Error,
    },
    #[error("invalid query: {0}")]
    Query(duckdb::Error),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// The store's own error back out of the parser's sink error.
    pub fn from_sink(error: rua_report::SinkError) -> StoreError {
        match error.downcast::<StoreError>() {
            Ok(e) => *e,
            Err(other) => StoreError::Other(other.to_string()),
        }
    }

    pub(crate) fn db(context: &'static str) -> impl FnOnce(duckdb::Error) -> StoreError {
        move |source| StoreError::Db { context, source }
    }
}

/// An open database.
pub struct Store {
    /// Commits batches in the background; started by the first batch. Declared first so
    /// that it finishes (and joins) before the main connection closes.
    writer: Option<writer::Writer>,
    conn: duckdb::Connection,
    path: PathBuf,
    options: OpenOptions,
    ingest: ingest::State,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// WAL size at which a writer checkpoints. Each checkpoint compresses again the row groups
/// that grew since the last one (for `reports`, every kept payload in them), so fewer cost
/// less: 100,000 typical reports ingest in 38 s instead of 43 s at 64 MB (which saved a
/// quarter against DuckDB's default of 16 MB). A run killed before its checkpoint leaves a
/// WAL that the next open replays.
const CHECKPOINT_THRESHOLD: &str = "256MB";

/// Transaction control, for the writer's long transaction and the migrations.
const BEGIN: &str = include_str!("../../../sql/store/begin.sql");
const COMMIT: &str = include_str!("../../../sql/store/commit.sql");
const ROLLBACK: &str = include_str!("../../../sql/store/rollback.sql");

/// DuckDB's header: three 4 KiB blocks. A file shorter than that holds no data.
const HEADER_BYTES: u64 = 3 * 4096;
/// A file shorter than the header that has not grown for this long was left by a process
/// killed while creating it (a live one writes the header in milliseconds).
const ABANDONED_AFTER: Duration = Duration::from_secs(2);

/// Whether another process is probably creating the database right now: the file is shorter
/// than DuckDB's header, or its header read as invalid less than two seconds ago.
fn is_being_created(path: &Path, e: &duckdb::Error, waited: Duration) -> bool {
    let is_short = short_len(path).is_some();
    let is_invalid = e.to_string().contains("not a valid DuckDB database file");
    is_short || (is_invalid && waited < ABANDONED_AFTER)
}

/// The length of a database file shorter than DuckDB's header.
fn short_len(path: &Path) -> Option<u64> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.len())
        .filter(|&n| n < HEADER_BYTES)
}

/// Watches a database file that is shorter than its header for signs of abandonment.
#[derive(Default)]
struct ShortFile {
    seen: Option<(u64, Instant)>,
}

impl ShortFile {
    /// Some(length) once the file has stayed short and unchanged for [`ABANDONED_AFTER`].
    fn abandoned(&mut self, path: &Path) -> Option<u64> {
        let len = short_len(path)?;
        match self.seen {
            Some((seen, since)) if seen == len => {
                (since.elapsed() >= ABANDONED_AFTER).then_some(len)
            }
            _ => {
                self.seen = Some((len, Instant::now()));
                None
            }
        }
    }
}

fn is_lock_error(e: &duckdb::Error) -> bool {
    let text = e.to_string();
    text.contains("Could not set lock") || text.contains("Conflicting lock")
}

impl Store {
    /// Opens (creating if needed) and migrates a database, waiting for another process's lock.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Store, StoreError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        let mut short = ShortFile::default();
        let conn = loop {
            let config = duckdb::Config::default();
            let config = if options.is_read_only {
                config.access_mode(duckdb::AccessMode::ReadOnly)
            } else {
                config
                    .access_mode(duckdb::AccessMode::ReadWrite)
                    .and_then(|c| match &options.memory_limit {
                        Some(limit) => c.max_memory(limit),
                        None => Ok(c),
                    })
                    .and_then(|c| match options.threads {
                        Some(n) => c.threads(n),
                        None => Ok(c),
                    })
                    .and_then(|c| c.with("checkpoint_threshold", CHECKPOINT_THRESHOLD))
            }
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
            match duckdb::Connection::open_with_flags(path, config) {
                Ok(conn) => break conn,
                // Another process holds the file, or is writing a new file's header right now
                // (then the file looks invalid for a moment; for longer, it is invalid).
                Err(e) if is_lock_error(&e) || is_being_created(path, &e, started.elapsed()) => {
                    if let Some(n_bytes) = short.abandoned(path) {
                        // Nothing was ever committed to it. A writer starts afresh, unless a
                        // WAL (which would hold data) lies beside it.
                        let wal = PathBuf::from(format!("{}.wal", path.display()));
                        if options.is_read_only
                            || wal.exists()
                            || std::fs::remove_file(path).is_err()
                        {
                            return Err(StoreError::Incomplete {
                                path: path.to_owned(),
                                n_bytes,
                            });
                        }
                        continue;
                    }
                    if started.elapsed() >= options.lock_timeout {
                        let waited_ms = started.elapsed().as_millis();
                        if !is_lock_error(&e) {
                            return Err(StoreError::Open {
                                path: path.to_owned(),
                                source: e,
                            });
                        }
                        return Err(StoreError::Locked {
                            path: path.to_owned(),
                            waited_ms,
                            source: e,
                        });
                    }
                    std::thread::sleep(
                        delay.min(options.lock_timeout.saturating_sub(started.elapsed())),
                    );
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: path.to_owned(),
                        source,
                    });
                }
            }
        };
        let mut store = Store {
            writer: None,
            conn,
            path: path.to_owned(),
            options: options.clone(),
            ingest: ingest::State::default(),
        };
        schema::migrate(&store.conn, path, options.is_read_only)?;
        if !options.is_read_only {
            // The table function over Arrow batches that `sql/store/append_batch.sql` reads.
            store
                .conn
                .register_table_function::<duckdb::vtab::arrow::ArrowVTab>("rua_batch")
                .map_err(StoreError::db("registering the batch table function"))?;
            store.load_known()?;
        }
        Ok(store)
    }
}
