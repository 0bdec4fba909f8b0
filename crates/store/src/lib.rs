//! rua's DuckDB store: one embedded database file holding every report, record, reject and
//! ingest run.
//!
//! [`Store::open`] waits for a writer lock held by another process, applies the numbered
//! migrations in `sql/migrations` and recreates the views in `sql/views.sql`. Ingest is
//! idempotent: a report's identity (organisation, report_id, policy domain, begin, end) and
//! its content hash decide whether it is new, a duplicate (nothing is written) or a conflict
//! (kept, flagged, never counted twice). Each report's rows are committed together; reports
//! are batched per transaction for speed. This is the only crate that links DuckDB.

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

pub use content::{Content, PayloadTee};
pub use export::{ExportFormat, ExportSpec};
pub use ingest::{Origin, Outcome, RejectRow, ReportWriter, RunCounts};
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
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(60),
            is_read_only: false,
            keep_raw: true,
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

/// Whether another process is probably creating the database right now: the file is shorter
/// than DuckDB's header (three 4 KiB blocks), or its header read as invalid less than two
/// seconds ago.
fn is_being_created(path: &Path, e: &duckdb::Error, waited: Duration) -> bool {
    let is_short = std::fs::metadata(path).is_ok_and(|m| m.len() < 3 * 4096);
    let is_invalid = e.to_string().contains("not a valid DuckDB database file");
    is_short || (is_invalid && waited < Duration::from_secs(2))
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
        let conn = loop {
            let config = duckdb::Config::default();
            let config = if options.is_read_only {
                config.access_mode(duckdb::AccessMode::ReadOnly)
            } else {
                config.access_mode(duckdb::AccessMode::ReadWrite)
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
            store.load_known()?;
        }
        Ok(store)
    }
}
