//! The background writer: batches of finished reports are appended on a second connection
//! in a thread of their own, while the caller parses the next batch, into one transaction
//! that a batch marked `commit` commits; so are the parts of a report too large to buffer,
//! in that report's own transaction. At most one job is in flight; [`Writer::sync`] waits
//! for it, so callers that need a durable commit (before acting on a mailbox, at the end of
//! a run) hand over a batch marked `commit` and get one.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::StoreError;
use crate::tables::Rows;

/// Work for the writer, done in the order handed over.
pub(crate) enum Job {
    /// Finished reports, in the open transaction (begun if there is none): reports to
    /// delete first (replaced by `rua reparse`), then rows to append; `commit` commits the
    /// transaction with every batch in it.
    Batch {
        rows: Rows,
        replaced: Vec<i64>,
        commit: bool,
    },
    /// Part of a report too large to buffer, in a transaction of its own that the first
    /// part opens (after deleting the report it replaces, if any) and the last commits.
    /// Batches before it were committed first.
    Spill {
        rows: Rows,
        replaced: Option<i64>,
        is_first: bool,
        is_last: bool,
    },
    /// The report being spilled failed or was a duplicate: nothing of it stays.
    RollBack,
}

pub(crate) struct Writer {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<duckdb::Result<()>>,
    thread: Option<JoinHandle<()>>,
    n_in_flight: usize,
}

/// The writer thread's connection and whether a spilled report's transaction is open.
struct Committer {
    conn: duckdb::Connection,
    is_in_transaction: bool,
}

impl Committer {
    fn run(&mut self, job: Job) -> duckdb::Result<()> {
        let result = self.step(job);
        if result.is_err() && self.is_in_transaction {
            let _ = self.conn.execute_batch(crate::ROLLBACK);
            self.is_in_transaction = false;
        }
        result
    }

    fn begin(&mut self) -> duckdb::Result<()> {
        self.conn.execute_batch(crate::BEGIN)?;
        self.is_in_transaction = true;
        Ok(())
    }

    fn delete(&mut self, replaced: &[i64]) -> duckdb::Result<()> {
        if replaced.is_empty() {
            Ok(())
        } else {
            crate::Store::delete_reports(&self.conn, replaced)
        }
    }

    fn commit(&mut self) -> duckdb::Result<()> {
        self.is_in_transaction = false;
        self.conn.execute_batch(crate::COMMIT)
    }

    fn step(&mut self, job: Job) -> duckdb::Result<()> {
        match job {
            Job::Batch {
                mut rows,
                replaced,
                commit,
            } => {
                if !self.is_in_transaction {
                    self.begin()?;
                }
                self.delete(&replaced)?;
                rows.append(&self.conn)?;
                if commit {
                    self.commit()?;
                }
                Ok(())
            }
            Job::Spill {
                mut rows,
                replaced,
                is_first,
                is_last,
            } => {
                if is_first {
                    self.begin()?;
                    self.delete(replaced.as_slice())?;
                } else if !self.is_in_transaction {
                    // An earlier part failed (and was reported): the rest is dropped.
                    return Ok(());
                }
                rows.append(&self.conn)?;
                if is_last {
                    self.commit()?;
                }
                Ok(())
            }
            Job::RollBack => {
                if self.is_in_transaction {
                    self.is_in_transaction = false;
                    self.conn.execute_batch(crate::ROLLBACK)?;
                }
                Ok(())
            }
        }
    }
}

impl Writer {
    /// Starts the thread on `conn` (a clone of the store's connection).
    pub(crate) fn start(conn: duckdb::Connection) -> Writer {
        let (jobs, incoming) = sync_channel::<Job>(1);
        let (done, results) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("rua-store-writer".into())
            .spawn(move || {
                let mut committer = Committer {
                    conn,
                    is_in_transaction: false,
                };
                for job in incoming {
                    if done.send(committer.run(job)).is_err() {
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
            Err(_) => Err(StoreError::WriterStopped),
        }
    }

    /// Hands a job over once the previous one is done (a failure of that one is returned
    /// here, and this job is not sent).
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
            _ => Err(StoreError::WriterStopped),
        }
    }

    /// Waits until every job handed over is done (and so, a batch marked `commit` and the
    /// batches before it are durable).
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
