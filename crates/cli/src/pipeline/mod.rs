//! The ingest pipeline, shared by `rua ingest`, `rua fetch` and anything else that reads
//! inputs into the store: an unpack [`Visitor`] that parses aggregate payloads (on parser
//! threads when it has them, see `workers.rs`) and stores what becomes of every payload, in
//! the order the payloads were found: a report, a duplicate, a conflict, another report kind
//! (`other.rs`) or a reject with its bytes and reason.

mod other;

pub(crate) use other::{OtherReport, Refused};
mod workers;

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;

use indicatif::ProgressBar;
use rua_report::aggregate::{ErrorKind, Report};
use rua_store::{
    Content, Origin, Outcome, ParsedReport, PayloadHash, PayloadTee, RejectRow, RunCounts, Store,
    StoreError,
};
use rua_unpack::{
    IN_MEMORY_BYTES, Limits, Payload, PayloadKind, Provenance, UnpackError, Visitor, limit_exceeded,
};

use workers::{Job, Parsed, Unreadable, Workers, parse_in_memory};

/// What one input may cost: the unpacker's limits and the parser's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bounds {
    pub unpack: Limits,
    pub parse: rua_report::aggregate::Options,
}

/// Why the pipeline stopped (an input's own problems never stop it: they are rejects).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the parser threads stopped")]
    ParsersStopped,
}

/// A run's counts in one line, for the log.
pub fn summary_line(c: &RunCounts) -> String {
    format!(
        "{} new reports, {} duplicates, {} conflicts, {} rejects, {} other reports; {} records, {} messages added",
        c.n_reports_new,
        c.n_duplicates,
        c.n_conflicts,
        c.n_rejects,
        c.n_other,
        c.n_records,
        c.n_messages
    )
}

/// The unpack visitor that parses aggregate payloads into the store and keeps everything
/// else (other reports, rejects). With workers, payloads that fit in memory are parsed on
/// them while this thread unpacks the next; results are stored in the order the payloads
/// were found, so the outcome is the same as without.
pub struct Ingest<'a> {
    store: &'a mut Store,
    progress: Option<&'a ProgressBar>,
    workers: Option<Workers>,
    /// Payloads given to the workers, in order, with where each came from and its size.
    in_flight: VecDeque<(u64, Provenance, usize)>,
    in_flight_bytes: usize,
    /// Results that arrived before an earlier payload's.
    arrived: BTreeMap<u64, Parsed>,
    next_seq: u64,
    /// Emptied reports, kept for their buffers.
    spare: Vec<ParsedReport>,
    /// Payloads that were not reports at all (kept as `not_report` rejects).
    pub n_not_report: u64,
    bounds: Bounds,
}

/// The most of a streamed payload handed to the parser at once.
const STREAM_PIECE: usize = 64 << 10;

/// Payloads handed to the workers and not yet stored, at most, and their bytes (bounds memory).
const MAX_IN_FLIGHT: usize = 64;
const MAX_IN_FLIGHT_BYTES: usize = 32 << 20;
/// Emptied reports kept for reuse, at most: as many as can be in flight, so that a worker
/// (nearly) never fills an empty one, whose buffers grow by reallocation, and the buffers a
/// worker allocated are not freed here (measured in docs/performance.md).
const MAX_SPARE: usize = MAX_IN_FLIGHT;

fn origin(p: &Provenance) -> Origin {
    let message = p.message.as_ref();
    Origin {
        source: p.source.clone(),
        chain: p.chain.join(" > "),
        file_name: p.file_name.clone(),
        message_id: message.and_then(|m| m.message_id.clone()),
        message_subject: message.and_then(|m| m.subject.clone()),
        message_from: message.and_then(|m| m.from.clone()),
        message_date: message.and_then(|m| m.date.clone()),
    }
}

impl<'a> Ingest<'a> {
    /// A visitor that stores each payload before returning from it.
    pub fn new(store: &'a mut Store, progress: Option<&'a ProgressBar>, bounds: Bounds) -> Self {
        Self {
            bounds,
            store,
            progress,
            workers: None,
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            arrived: BTreeMap::new(),
            next_seq: 0,
            spare: Vec::new(),
            n_not_report: 0,
        }
    }

    /// A visitor that parses on `n_workers` threads; call [`Ingest::finish`] at the end.
    pub fn with_workers(
        store: &'a mut Store,
        progress: Option<&'a ProgressBar>,
        bounds: Bounds,
        n_workers: usize,
    ) -> Self {
        let mut ingest = Ingest::new(store, progress, bounds);
        // Without a single parser thread (none asked for, or none could start), parse here.
        ingest.workers = Some(Workers::start(n_workers)).filter(|w| !w.threads.is_empty());
        ingest
    }

    /// Stores every payload still with the workers.
    pub fn finish(&mut self) -> Result<(), IngestError> {
        while !self.in_flight.is_empty() {
            self.settle_next()?;
        }
        Ok(())
    }

    /// Waits for the oldest payload with the workers and stores it.
    fn settle_next(&mut self) -> Result<(), IngestError> {
        let Some((seq, prov, n_bytes)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        self.in_flight_bytes -= n_bytes;
        let parsed = loop {
            if let Some(parsed) = self.arrived.remove(&seq) {
                break parsed;
            }
            let received = self.workers.as_ref().map(|w| w.results.recv());
            match received {
                Some(Ok(parsed)) => {
                    self.arrived.insert(parsed.seq, parsed);
                }
                _ => return Err(IngestError::ParsersStopped),
            }
        };
        let Parsed {
            mut report,
            result,
            content,
            ..
        } = parsed;
        let settled = self.settle(&prov, &mut report, result, content);
        self.keep_spare(report);
        settled
    }

    /// Stores what became of one in-memory payload: the report, or a reject.
    fn settle(
        &mut self,
        prov: &Provenance,
        report: &mut ParsedReport,
        result: Result<Report, Unreadable>,
        content: Content,
    ) -> Result<(), IngestError> {
        match result {
            Ok(parsed) => {
                let outcome = self
                    .store
                    .add_report(report, &parsed, content, &origin(prov))?;
                note_conflict(prov, outcome);
                Ok(())
            }
            Err(Unreadable::Parse(e)) => {
                let code = e.kind.code();
                self.keep_reject(prov, "aggregate", code, e.to_string(), content)
            }
            Err(Unreadable::Panic(what)) => {
                let reason = format!("the parser failed (a bug in rua, please report it): {what}");
                self.keep_reject(prov, "aggregate", "parser_panic", reason, content)
            }
        }
    }

    fn keep_spare(&mut self, report: ParsedReport) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push(report);
        }
    }

    /// A report to parse into, reusing an emptied one's memory.
    fn report_for(&mut self, key: i64) -> ParsedReport {
        match self.spare.pop() {
            Some(mut report) => {
                report.reset(key);
                report
            }
            None => ParsedReport::new(key),
        }
    }

    /// Parses an aggregate payload held in memory: on a worker if there are any, else here.
    fn aggregate_in_memory(
        &mut self,
        prov: &Provenance,
        bytes: Vec<u8>,
        gzip: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        // The same bytes again (a file or mail read before): a duplicate without parsing.
        let hash = PayloadHash::of(&bytes);
        if let Some(of) = self.store.known_report_payload(hash, bytes.len() as u64)? {
            tracing::debug!("{prov}: already stored as report #{of}");
            return Ok(());
        }
        let key = self.store.reserve_report_key();
        let mut report = self.report_for(key);
        let keep_raw = self.store.keeps_raw();
        // A report that fails without it is compressed anew (rare: one that fails to parse).
        let gzip = gzip.filter(|_| keep_raw).map(<[u8]>::to_vec);
        let Some(jobs) = self.workers.as_ref().and_then(|w| w.jobs.as_ref()) else {
            let options = self.bounds.parse;
            let (result, content) =
                parse_in_memory(&mut report, &bytes, hash, gzip, keep_raw, &options);
            let settled = self.settle(prov, &mut report, result, content);
            self.keep_spare(report);
            return settled;
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let n_bytes = bytes.len();
        let job = Job {
            seq,
            report,
            bytes,
            hash,
            gzip,
            keep_raw,
            options: self.bounds.parse,
        };
        if jobs.send(job).is_err() {
            return Err(IngestError::ParsersStopped);
        }
        self.in_flight.push_back((seq, prov.clone(), n_bytes));
        self.in_flight_bytes += n_bytes;
        // Store whatever is done, and wait when too much is in flight.
        while let Some(&(oldest, ..)) = self.in_flight.front() {
            let is_done = self.arrived.contains_key(&oldest) || self.poll_results();
            let is_full = self.in_flight.len() >= MAX_IN_FLIGHT
                || self.in_flight_bytes >= MAX_IN_FLIGHT_BYTES;
            if !is_done && !is_full {
                break;
            }
            self.settle_next()?;
        }
        Ok(())
    }

    /// Collects results that have arrived; true when the oldest payload's is among them.
    fn poll_results(&mut self) -> bool {
        if let Some(workers) = &self.workers {
            while let Ok(parsed) = workers.results.try_recv() {
                self.arrived.insert(parsed.seq, parsed);
            }
        }
        self.in_flight
            .front()
            .is_some_and(|(oldest, ..)| self.arrived.contains_key(oldest))
    }

    fn tick(&self) {
        if let Some(bar) = self.progress {
            let c = self.store.counts();
            bar.set_message(format!(
                "{} new, {} duplicates, {} rejects, {} records",
                c.n_reports_new, c.n_duplicates, c.n_rejects, c.n_records
            ));
        }
    }

    fn keep_reject(
        &mut self,
        p: &Provenance,
        kind: &str,
        code: &str,
        reason: String,
        content: Content,
    ) -> Result<(), IngestError> {
        if code == "not_report" && p.message.is_some() {
            // Mailboxes collect bounces and newsletters too: worth a note, not a cron mail.
            tracing::info!("kept {p}: {reason}");
        } else {
            tracing::warn!("rejected {p}: {reason}");
        }
        let row = RejectRow {
            payload_kind: kind.to_owned(),
            reason_code: code.to_owned(),
            reason,
            origin: origin(p),
        };
        self.store.reject(row, content)?;
        Ok(())
    }

    /// Keeps an aggregate payload that could not be read (decompressed) to its end: the
    /// container it came in, when there is one.
    fn keep_unreadable(
        &mut self,
        prov: &Provenance,
        e: &std::io::Error,
        container: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        let code = unreadable_code(e, "read_error");
        let reason = format!("cannot read payload: {e}");
        self.keep_reject(prov, "aggregate", code, reason, content_of(container))
    }

    /// An aggregate payload of up to [`IN_MEMORY_BYTES`] (as the unpacker holds them) is read
    /// into memory and parsed in place, on a worker if there are any; a larger one is parsed
    /// as a stream on the unpacking thread.
    fn aggregate(&mut self, payload: Payload<'_>) -> Result<(), IngestError> {
        let prov = payload.provenance;
        let mut bytes = Vec::new();
        let read = (&mut *payload.reader)
            .take(IN_MEMORY_BYTES + 1)
            .read_to_end(&mut bytes);
        match read {
            Ok(n) if n > 0 && n as u64 <= IN_MEMORY_BYTES => {
                return self.aggregate_in_memory(prov, bytes, payload.gzip);
            }
            Ok(_) => {}
            Err(e) => return self.keep_unreadable(prov, &e, payload.container_bytes),
        }
        // Empty, or too large to hold: parsed as a stream (the part read first, then the
        // rest), here, after the payloads found before it.
        self.finish()?;
        // Handed on in small pieces: the part read first would otherwise go to the tee and
        // the parser's window in one piece, a copy of it in each.
        let mut input = std::io::BufReader::with_capacity(
            STREAM_PIECE,
            std::io::Cursor::new(bytes).chain(payload.reader),
        );
        // The tee keeps the bytes whatever happens, so a failed report is kept whole.
        let mut tee = PayloadTee::new(&mut input, true);
        let mut writer = self.store.report()?;
        let parsed = rua_report::aggregate::parse_with(&mut tee, &mut writer, &self.bounds.parse);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            // The store failed while taking records: that is fatal, not the report's fault.
            Err(store) => {
                writer.abort()?;
                return Err(store.into());
            }
        };
        match parsed {
            Ok(report) => match tee.finish() {
                Ok(content) => {
                    let outcome = writer.finish(&report, content, &origin(prov))?;
                    note_conflict(prov, outcome);
                    Ok(())
                }
                Err(e) => {
                    writer.abort()?;
                    self.keep_unreadable(prov, &e, payload.container_bytes)
                }
            },
            Err(e) => {
                writer.abort()?;
                let code = unreadable_code(&e, e.kind.code());
                // Keep the whole payload: read what the parser left, within the limits.
                let _ = std::io::copy(&mut tee, &mut std::io::sink());
                // What could not be read (decompressed) is kept as received when that is at
                // hand, and never as far as a limit let it grow.
                let as_received = code == "limit_decompressed"
                    || (matches!(e.kind, ErrorKind::Read(_)) && payload.container_bytes.is_some());
                let content = match tee.finish_partial() {
                    Ok(read) if read.n_bytes > 0 && !as_received => read,
                    _ => content_of(payload.container_bytes),
                };
                self.keep_reject(prov, "aggregate", code, e.to_string(), content)
            }
        }
    }
}

/// The reject code of a payload that could not be read: `limit_decompressed` when it
/// outgrew the decompression limit, else `otherwise`.
fn unreadable_code(e: &(dyn std::error::Error + 'static), otherwise: &'static str) -> &'static str {
    if limit_exceeded(e).is_some() {
        "limit_decompressed"
    } else {
        otherwise
    }
}

/// Says (at info level) that a report was kept as a conflict.
fn note_conflict(prov: &Provenance, outcome: Outcome) {
    if let Outcome::Conflict { of, .. } = outcome {
        tracing::info!("{prov}: same report as #{of} with other content; kept, not counted");
    }
}

/// Content of bytes in memory (an empty input when there are none).
fn content_of(bytes: Option<&[u8]>) -> Content {
    Content::of(bytes.unwrap_or_default(), None)
}

impl Visitor for Ingest<'_> {
    type Error = IngestError;

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), IngestError> {
        let result = match payload.kind {
            PayloadKind::Aggregate => self.aggregate(payload),
            // Stored after every payload found before it, as the workers' results are, so
            // that keys (and which copy counts first) do not depend on thread timing.
            PayloadKind::SmtpTls | PayloadKind::Failure | PayloadKind::NotReport => {
                self.finish().and_then(|()| self.other(payload))
            }
        };
        self.tick();
        result
    }

    fn reject(
        &mut self,
        p: &Provenance,
        error: UnpackError,
        bytes: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        self.finish()?;
        let content = content_of(bytes);
        let result = self.keep_reject(p, "container", error.code(), error.to_string(), content);
        self.tick();
        result
    }
}
