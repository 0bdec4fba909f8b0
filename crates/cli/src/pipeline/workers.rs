//! Parser threads: aggregate payloads held in memory are parsed on them while the unpacking
//! thread goes on, and come back tagged with their sequence number.

use std::sync::{Arc, Mutex, mpsc};

use rua_report::aggregate::{ParseError, Report};
use rua_store::{Content, ParsedReport, PayloadHash};

/// A payload for a worker: parse `bytes` into `report`.
pub(super) struct Job {
    pub(super) seq: u64,
    pub(super) report: ParsedReport,
    pub(super) bytes: Vec<u8>,
    pub(super) hash: PayloadHash,
    /// The same bytes as one gzip member as received, if they came so.
    pub(super) gzip: Option<Vec<u8>>,
    pub(super) keep_raw: bool,
    pub(super) options: rua_report::aggregate::Options,
}

/// A worker's result.
pub(super) struct Parsed {
    pub(super) seq: u64,
    pub(super) report: ParsedReport,
    pub(super) result: Result<Report, Unreadable>,
    pub(super) content: Content,
}

/// Why a payload held in memory is not a report.
pub(super) enum Unreadable {
    Parse(ParseError),
    /// The parser panicked: a bug, but the payload is kept and the run goes on.
    Panic(String),
}

/// Parses a payload held in memory: what a worker does, or this thread when there are none.
pub(super) fn parse_in_memory(
    report: &mut ParsedReport,
    bytes: &[u8],
    hash: PayloadHash,
    gzip: Option<Vec<u8>>,
    keep_raw: bool,
    options: &rua_report::aggregate::Options,
) -> (Result<Report, Unreadable>, Content) {
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Ok(parsed) = rua_report::aggregate::parse_bytes_with(bytes, &mut *report, options);
        parsed
    }));
    let result = match parsed {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(e)) => Err(Unreadable::Parse(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Unreadable::Panic(what))
        }
    };
    // A failed payload is kept whole as a reject, so its bytes are always kept.
    let content = Content::of_hashed(bytes, hash, gzip, keep_raw || result.is_err());
    (result, content)
}

/// Parser threads fed through one queue.
pub(super) struct Workers {
    pub(super) jobs: Option<mpsc::Sender<Job>>,
    pub(super) results: mpsc::Receiver<Parsed>,
    pub(super) threads: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    pub(super) fn start(n: usize) -> Workers {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, results) = mpsc::channel();
        let threads = (0..n)
            .filter_map(|i| {
                let queue = Arc::clone(&queue);
                let done = done.clone();
                std::thread::Builder::new()
                    .name(format!("rua-parse-{i}"))
                    .spawn(move || {
                        loop {
                            let job = match queue.lock() {
                                Ok(queue) => queue.recv(),
                                Err(_) => return,
                            };
                            let Ok(mut job) = job else { return };
                            let (result, content) = parse_in_memory(
                                &mut job.report,
                                &job.bytes,
                                job.hash,
                                job.gzip,
                                job.keep_raw,
                                &job.options,
                            );
                            let parsed = Parsed {
                                seq: job.seq,
                                report: job.report,
                                result,
                                content,
                            };
                            if done.send(parsed).is_err() {
                                return;
                            }
                        }
                    })
                    .ok()
            })
            .collect();
        Workers {
            jobs: Some(jobs),
            results,
            threads,
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
