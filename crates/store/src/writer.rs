//! The background writer: batches of finished reports are appended and committed on a second
//! connection in a thread of their own, while the caller parses the next batch. At most one
//! batch is in flight; [`Writer::sync`] waits for it, so callers that need a durable commit
//! (before acting on a mailbox, at the end of a run) get one.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::StoreError;
use crate::ingest::Rows;

/// One batch: reports to delete first (replaced by `rua reparse`), then rows to append.
pub(crate) struct Job {
    pub rows: Rows,
    pub replaced: Vec<i64>,
}

pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<duckdb::Result<()>>,
    thread: Option<JoinHandle<()>>,
    n_in_flight: usize,
}

/// Commits one batch in its own transaction, or rolls it back whole.
fn commit(conn: &duckdb::Connection, mut job: Job) -> duckdb::Result<()> {
    let result = conn
        .execute_batch("BEGIN TRANSACTION")
        .and_then(|()| {
            if job.replaced.is_empty() {
                Ok(())
            } else {
                crate::Store::delete_reports(conn, &job.replaced)
            }
        })
        .and_then(|()| job.rows.append(conn))
        .and_then(|()| conn.execute_batch("COMMIT"));
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

impl Writer {
    /// Starts the thread on `conn` (a clone of the store's connection).
    pub(crate) fn start(conn: duckdb::Connection) -> Writer {
        let (jobs, incoming) = sync_channel::<Job>(1);
        let (done, results) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("rua-store-writer".into())
            .spawn(move || {
                for job in incoming {
                    if done.send(commit(&conn, job)).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Writer {
            jobs: Some(jobs),
            results,
            thread,
            n_in_flight: 0,
        }
    }

    fn wait_one(&mut self) -> Result<(), StoreError> {
        self.n_in_flight -= 1;
        match self.results.recv() {
            Ok(result) => result.map_err(StoreError::db("writing reports")),
            Err(_) => Err(StoreError::Other("the database writer stopped".into())),
        }
    }

    /// Hands a batch over once the previous one is committed (a failure of that one is
    /// returned here, and this batch is not sent).
    pub(crate) fn submit(&mut self, job: Job) -> Result<(), StoreError> {
        self.sync()?;
        let is_sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        match (is_sent, &self.thread) {
            (true, Some(_)) => {
                self.n_in_flight += 1;
                Ok(())
            }
            _ => Err(StoreError::Other("the database writer stopped".into())),
        }
    }

    /// Waits until every batch handed over is committed.
    pub(crate) fn sync(&mut self) -> Result<(), StoreError> {
        while self.n_in_flight > 0 {
            self.wait_one()?;
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Let a batch in flight finish (it holds only complete reports), then stop.
        let _ = self.sync();
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
