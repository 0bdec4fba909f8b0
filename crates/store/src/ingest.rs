//! Writing reports: runs, rows buffered per report and batched across reports for the
//! background writer, and a report too large to buffer spilled in parts inside its own
//! transaction. What a report is (new, duplicate, conflict) is decided in `dedup.rs`; its rows
//! are laid out in `tables.rs`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use duckdb::params;
use rua_align::normalize as normalize_domain;
use rua_report::aggregate::{Record, RecordSink, Report};
use rua_report::failure::Parsed as FailureParsed;
use rua_report::smtp_tls::TlsReport;

use crate::content_hash::{
    ContentHasher, hash_failure_report, hash_record, hash_report, hash_tls_report,
};
use crate::dedup::{Dedup, identity};
use crate::tables::{FailureReportRow, ReportRow, Rows, TlsReportRow};
use crate::writer::{Job, Writer};
use crate::{Content, Origin, Outcome, PayloadHash, RejectRow, RunCounts, Store, StoreError};

/// Records of one report buffered before its rows go to DuckDB inside its own transaction.
/// One such part is filled while the writer stores the one before; twice as many raised the
/// peak memory of a large report, no faster (docs/performance.md).
const SPILL_RECORDS: usize = 10_000;
/// Rows of finished reports buffered before they go to the writer as one batch. Small
/// batches keep memory low (the writer commits many in one transaction); much smaller ones
/// are slower (docs/performance.md).
const BATCH_ROWS: usize = 25_000;
const BATCH_REPORTS: usize = 1_250;
/// Bytes of text and kept payloads buffered before a batch goes (bounds memory).
const BATCH_BYTES: usize = 6 << 20;
/// Records the writer's transaction takes before it commits, by default. Batches go to the
/// writer as they fill, and it appends them in one transaction: a table that gets at least
/// a row group (122,880 rows) in one transaction has its row groups written compressed
/// straight to the file (DuckDB's bulk append), instead of going through the WAL and being
/// compressed again at the next checkpoint.
pub(crate) const COMMIT_RECORDS: usize = 4 * 122_880;

#[derive(Default)]
pub(crate) struct State {
    dedup: Dedup,
    /// Whether `dedup` holds what is stored: read at the first report, reject or payload
    /// (`Store::ensure_known`), so that a command or run that stores nothing never reads it.
    is_known: bool,
    next_report_key: i64,
    next_reject_key: i64,
    next_tls_key: i64,
    next_failure_key: i64,
    run_id: i64,
    run_started: Option<Instant>,
    /// The started run's command and start (microseconds since the epoch) until its row is
    /// in `ingest_runs`: written before the run's first write, so that every row it stores
    /// refers to a recorded run; a run that writes nothing gets its row, with its outcome,
    /// in one transaction at its end.
    unrecorded_run: Option<(String, i64)>,
    pending: Rows,
    /// Reports in `pending` that replace stored ones: their old rows go in the same commit.
    pending_replaced: Vec<i64>,
    n_pending_reports: usize,
    /// Batches handed to the writer that its open transaction has not committed yet, and
    /// their records.
    is_uncommitted: bool,
    n_uncommitted_records: usize,
    /// The report being written was too large to buffer: its rows are being written inside
    /// an open transaction on the writer that commits (or rolls back) with the report.
    is_spilled: bool,
    counts: RunCounts,
}

/// Inserts a run's row (status `running`): its id, and its command and start.
fn insert_run(
    conn: &duckdb::Connection,
    run_id: i64,
    (command, started_at): &(String, i64),
) -> Result<(), StoreError> {
    conn.execute(
        include_str!("../../../sql/store/insert_run.sql"),
        params![run_id, command, env!("CARGO_PKG_VERSION"), started_at],
    )
    .map(|_| ())
    .map_err(StoreError::db("recording the ingest run"))
}

/// Now, in microseconds since the epoch.
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Store {
    /// The next free key of each kind and the last run's id (the identities wait for
    /// [`Store::ensure_known`]).
    pub(crate) fn load_keys(&mut self) -> Result<(), StoreError> {
        let st = &mut self.ingest;
        let (reports, rejects, runs, tls, failures): (i64, i64, i64, i64, i64) = self
            .conn
            .query_row(include_str!("../../../sql/store/max_keys.sql"), [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(StoreError::db("reading keys"))?;
        st.next_report_key = reports + 1;
        st.next_reject_key = rejects + 1;
        st.next_tls_key = tls + 1;
        st.next_failure_key = failures + 1;
        st.run_id = runs;
        Ok(())
    }

    /// Reads the identities and payload hashes of what is stored, once, before the first
    /// decision that needs them (nothing of this run is written before it: every write
    /// follows such a decision).
    fn ensure_known(&mut self) -> Result<(), StoreError> {
        if !self.ingest.is_known {
            self.ingest.dedup.load(&self.conn)?;
            self.ingest.is_known = true;
        }
        Ok(())
    }

    /// Starts an ingest run. Its row in `ingest_runs` is written before its first write, or,
    /// when it writes nothing, with its outcome in one transaction by [`Store::finish_run`].
    pub fn start_run(&mut self, command: &str) -> Result<i64, StoreError> {
        let st = &mut self.ingest;
        st.run_id += 1;
        st.run_started = Some(Instant::now());
        st.unrecorded_run = Some((command.to_owned(), now_micros()));
        st.counts = RunCounts::default();
        Ok(st.run_id)
    }

    /// Writes the run's row (status `running`) if it is not written yet.
    fn record_run(&mut self) -> Result<(), StoreError> {
        if let Some(run) = self.ingest.unrecorded_run.take() {
            insert_run(&self.conn, self.ingest.run_id, &run)?;
        }
        Ok(())
    }

    /// Commits everything pending and records the run's outcome, in one transaction with
    /// the run's row when the run wrote nothing.
    pub fn finish_run(&mut self, is_failed: bool) -> Result<RunCounts, StoreError> {
        self.commit()?;
        let context = "recording the ingest run";
        let st = &mut self.ingest;
        let c = st.counts;
        let status = if is_failed {
            "failed"
        } else if c.n_rejects > 0 {
            "rejects"
        } else {
            "ok"
        };
        let duration_ms = st.run_started.map_or(0, |t| t.elapsed().as_millis() as i64);
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let tx = self.conn.transaction().map_err(StoreError::db(context))?;
        if let Some(run) = st.unrecorded_run.take() {
            insert_run(&tx, st.run_id, &run)?;
        }
        tx.execute(
            include_str!("../../../sql/store/finish_run.sql"),
            params![
                status,
                n(c.n_payloads),
                n(c.n_reports_new),
                n(c.n_duplicates),
                n(c.n_conflicts),
                n(c.n_rejects),
                n(c.n_other),
                n(c.n_records),
                n(c.n_messages),
                n(c.bytes_read),
                duration_ms,
                st.run_id
            ],
        )
        .map_err(StoreError::db(context))?;
        tx.commit().map_err(StoreError::db(context))?;
        Ok(c)
    }

    /// Gives back the memory an ingest holds after its run (the identities of what is
    /// stored, the batch buffers, the background writer and its connection), for a command
    /// that goes on to other work, such as the enrichment after `rua ingest`. A later run
    /// reads the identities again.
    pub fn release_ingest_memory(&mut self) -> Result<(), StoreError> {
        self.commit()?;
        // Dropping the writer waits for it and joins its thread.
        self.writer = None;
        let st = &mut self.ingest;
        st.pending = Rows::default();
        st.dedup = Dedup::default();
        st.is_known = false;
        Ok(())
    }

    pub fn counts(&self) -> RunCounts {
        self.ingest.counts
    }

    /// Starts writing one report; feed it to the parser as its record sink.
    pub fn report(&mut self) -> Result<ReportWriter<'_>, StoreError> {
        let report_key = self.ingest.next_report_key;
        self.ingest.next_report_key += 1;
        self.writer(report_key, None)
    }

    /// A writer for `report_key`; `replacing` holds the stored report's `conflict_of` when
    /// the report replaces a stored one.
    pub(crate) fn writer(
        &mut self,
        report_key: i64,
        replacing: Option<Option<i64>>,
    ) -> Result<ReportWriter<'_>, StoreError> {
        // A writer dropped before it finished may have left its transaction open.
        self.roll_back_spill()?;
        self.ingest.counts.n_payloads += 1;
        Ok(ReportWriter {
            store: self,
            parsed: ParsedReport::new(report_key),
            replacing,
        })
    }

    /// Stores a payload that could not be read. Returns false when the same bytes were
    /// rejected before (nothing is written again).
    pub fn reject(&mut self, row: RejectRow, content: Content) -> Result<bool, StoreError> {
        self.ensure_known()?;
        let is_new = self.ingest.dedup.known_payloads.insert(content.hash);
        self.store_reject(row, content, is_new)
    }

    /// Moves a payload kept aside in `other_payloads` (`rua reparse`, when it cannot be read)
    /// to `rejects`; its bytes are known already, being there.
    pub fn reject_kept(&mut self, row: RejectRow, content: Content) -> Result<bool, StoreError> {
        self.store_reject(row, content, true)
    }

    fn store_reject(
        &mut self,
        row: RejectRow,
        content: Content,
        is_new: bool,
    ) -> Result<bool, StoreError> {
        let st = &mut self.ingest;
        st.counts.n_rejects += 1;
        st.counts.bytes_read += content.n_bytes;
        if !is_new {
            return Ok(false);
        }
        let key = st.next_reject_key;
        st.next_reject_key += 1;
        st.pending
            .push_reject(key, st.run_id, now_micros(), &row, &content);
        self.maybe_flush()?;
        Ok(true)
    }

    /// Counts a payload of another report kind as read (a spilled report's parts, if a writer
    /// left any, are discarded first) and returns its content hash, fed by `hash`.
    fn take_payload(
        &mut self,
        content: &Content,
        hash: impl FnOnce(&mut ContentHasher),
    ) -> Result<blake3::Hash, StoreError> {
        self.roll_back_spill()?;
        self.ensure_known()?;
        self.ingest.counts.n_payloads += 1;
        self.ingest.counts.bytes_read += content.n_bytes;
        let mut hasher = ContentHasher::default();
        hash(&mut hasher);
        Ok(hasher.finish())
    }

    /// Stores an SMTP TLS report, unless it is a copy of one stored: the same identity
    /// (organization, report id, period) and content. A copy with other content is stored
    /// with `conflict_of` set.
    pub fn add_tls_report(
        &mut self,
        report: &TlsReport,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        let content_hash = self.take_payload(&content, |h| hash_tls_report(h, report))?;
        let keep_raw = self.options.keep_raw;
        let st = &mut self.ingest;
        let id = identity(
            report.organization_name.as_deref(),
            report.contact_info.as_deref(),
            &report.report_id,
            None,
            report.begin,
            report.end,
        );
        let key = st.next_tls_key;
        let outcome = st.dedup.tls.decide(id, content_hash, key, None);
        let conflict_of = match outcome {
            Outcome::New { .. } => None,
            Outcome::Conflict { of, .. } => Some(of),
            Outcome::Duplicate { .. } | Outcome::Replaced { .. } => {
                st.counts.n_duplicates += 1;
                return Ok(outcome);
            }
        };
        match conflict_of {
            None => st.counts.n_other += 1,
            Some(_) => st.counts.n_conflicts += 1,
        }
        st.next_tls_key += 1;
        let raw = content.raw_gz.filter(|_| keep_raw);
        st.pending.push_tls_report(&TlsReportRow {
            key,
            run_id: st.run_id,
            now: now_micros(),
            report,
            content_hash: &content_hash.to_hex(),
            payload_hash: &content.hash.hex(),
            n_bytes: content.n_bytes,
            raw: raw.as_deref(),
            conflict_of,
            origin,
        });
        st.n_pending_reports += 1;
        self.maybe_flush()?;
        Ok(outcome)
    }

    /// Stores a failure report unless one with the same content (its feedback fields and the
    /// original's headers) is stored. The original body and the report mail are kept only
    /// with [`crate::OpenOptions::keep_failure_bodies`].
    pub fn add_failure_report(
        &mut self,
        parsed: &FailureParsed,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        let content_hash =
            self.take_payload(&content, |h| hash_failure_report(h, &parsed.report))?;
        let keep = self.options.keep_failure_bodies;
        let st = &mut self.ingest;
        let key = st.next_failure_key;
        if let Some(&of) = st.dedup.failure_hashes.get(&content_hash) {
            st.counts.n_duplicates += 1;
            return Ok(Outcome::Duplicate { of });
        }
        st.dedup.failure_hashes.insert(content_hash, key);
        st.counts.n_other += 1;
        st.next_failure_key += 1;
        let body = parsed
            .original_body
            .as_deref()
            .filter(|_| keep)
            .map(|body| Content::of(body, None).raw_gz.unwrap_or_default());
        let raw = content.raw_gz.filter(|_| keep);
        st.pending.push_failure_report(&FailureReportRow {
            key,
            run_id: st.run_id,
            now: now_micros(),
            report: &parsed.report,
            content_hash: &content_hash.to_hex(),
            payload_hash: &content.hash.hex(),
            n_bytes: content.n_bytes,
            original_body_gz: body.as_deref(),
            raw: raw.as_deref(),
            origin,
        });
        st.n_pending_reports += 1;
        self.maybe_flush()?;
        Ok(Outcome::New { report_key: key })
    }

    fn maybe_flush(&mut self) -> Result<(), StoreError> {
        let st = &self.ingest;
        if st.pending.len() >= BATCH_ROWS
            || st.n_pending_reports >= BATCH_REPORTS
            || st.pending.bytes_len() >= BATCH_BYTES
        {
            self.flush_pending(false)?;
        }
        Ok(())
    }

    /// Hands the finished reports buffered so far to the background writer, which appends
    /// them while parsing goes on, and commits them with the batches before them when
    /// `is_durable` or when its transaction holds enough records.
    fn flush_pending(&mut self, is_durable: bool) -> Result<(), StoreError> {
        let st = &mut self.ingest;
        // A report being spilled has its transaction open on the writer: batches wait.
        if st.is_spilled || (st.pending.is_empty() && !(is_durable && st.is_uncommitted)) {
            return Ok(());
        }
        st.n_uncommitted_records += st.pending.records_len();
        let commit = is_durable || st.n_uncommitted_records >= self.options.commit_records;
        let next = st.pending.sized_like();
        let job = Job::Batch {
            rows: std::mem::replace(&mut st.pending, next),
            replaced: std::mem::take(&mut st.pending_replaced),
            commit,
        };
        st.n_pending_reports = 0;
        st.is_uncommitted = !commit;
        if commit {
            st.n_uncommitted_records = 0;
        }
        self.submit(job)
    }

    /// Hands a job to the background writer (started on first use), after the run's row.
    fn submit(&mut self, job: Job) -> Result<(), StoreError> {
        self.record_run()?;
        if self.writer.is_none() {
            let conn = self
                .conn
                .try_clone()
                .map_err(StoreError::db("starting the database writer"))?;
            self.writer = Some(Writer::start(conn));
        }
        match self.writer.as_mut() {
            Some(writer) => writer.submit(job),
            None => Err(StoreError::WriterStopped),
        }
    }

    /// Hands every finished report to the background writer and returns once everything
    /// handed over before is durable; these reports may still be in flight. A caller that
    /// acts on the previous batch after this call never acts before that batch's commit,
    /// while this one is committed during its next batch.
    pub fn hand_over(&mut self) -> Result<(), StoreError> {
        self.flush_pending(true)
    }

    /// Commits every finished report: when this returns, they are durable.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.flush_pending(true)?;
        match self.writer.as_mut() {
            Some(writer) => writer.sync(),
            None => Ok(()),
        }
    }

    /// Hands a report's rows so far to the writer, inside the report's own transaction,
    /// which the first part opens (after the rows of the stored report it replaces, if any,
    /// are removed) and the last commits.
    fn spill(
        &mut self,
        rows: &mut Rows,
        replacing: Option<i64>,
        is_last: bool,
    ) -> Result<(), StoreError> {
        let is_first = !self.ingest.is_spilled;
        if is_first {
            // Reports finished before this one are committed before its transaction opens.
            self.flush_pending(true)?;
        }
        self.ingest.is_spilled = !is_last;
        // The next part of the same report is about as large; after the last, these rows
        // serve another report, which starts small.
        let next = if is_last {
            Rows::default()
        } else {
            rows.sized_like()
        };
        let job = Job::Spill {
            rows: std::mem::replace(rows, next),
            replaced: replacing.filter(|_| is_first),
            is_first,
            is_last,
        };
        self.submit(job)
    }

    /// Discards the parts of a report already handed to the writer, if any.
    fn roll_back_spill(&mut self) -> Result<(), StoreError> {
        if self.ingest.is_spilled {
            self.ingest.is_spilled = false;
            self.submit(Job::RollBack)?;
        }
        Ok(())
    }
}

impl Store {
    /// Decides what becomes of a parsed report (new, duplicate, conflict or replacement)
    /// and stores it accordingly, leaving `parsed` empty. `replacing` holds the stored
    /// report's `conflict_of` when the report replaces the stored one with its key.
    fn conclude(
        &mut self,
        parsed: &mut ParsedReport,
        replacing: Option<Option<i64>>,
        report: &Report,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        self.ensure_known()?;
        let report_key = parsed.report_key;
        hash_report(&mut parsed.content, report);
        let content_hash = parsed.content.finish();
        let st = &mut self.ingest;
        st.counts.bytes_read += content.n_bytes;
        let domain = report.policy.domain.as_deref().map(normalize_domain);
        let id = identity(
            report.org_name.as_deref(),
            report.email.as_deref(),
            &report.report_id,
            domain.as_deref(),
            report.begin,
            report.end,
        );
        let outcome = st
            .dedup
            .decide(id, content_hash, content.hash, report_key, replacing);
        let conflict_of = match outcome {
            Outcome::Duplicate { .. } => {
                st.counts.n_duplicates += 1;
                parsed.rows.clear();
                self.roll_back_spill()?;
                return Ok(outcome);
            }
            Outcome::New { .. } => {
                st.counts.n_reports_new += 1;
                None
            }
            Outcome::Conflict { of, .. } => {
                st.counts.n_conflicts += 1;
                Some(of)
            }
            Outcome::Replaced { .. } => replacing.flatten(),
        };
        st.counts.n_records += report.n_records;
        st.counts.n_messages += report.n_messages;
        let raw = if self.options.keep_raw {
            content.raw_gz
        } else {
            None
        };
        let row = ReportRow {
            key: report_key,
            run_id: st.run_id,
            now: now_micros(),
            report,
            domain: domain.as_deref(),
            content_hash: &content_hash.to_hex(),
            payload_hash: &content.hash.hex(),
            n_bytes: content.n_bytes,
            raw: raw.as_deref(),
            conflict_of,
            origin,
        };
        parsed.rows.push_report(&row);
        if st.is_spilled {
            self.spill(&mut parsed.rows, None, true)?;
        } else {
            st.pending.extend(&parsed.rows);
            parsed.rows.clear();
            if replacing.is_some() {
                st.pending_replaced.push(report_key);
            }
            st.n_pending_reports += 1;
            self.maybe_flush()?;
        }
        Ok(outcome)
    }
}

/// One report parsed apart from the store, e.g. on another thread: the record sink while
/// it is parsed, then handed to [`Store::add_report`]. Its buffers can be reused for the
/// next report ([`ParsedReport::reset`]).
#[derive(Default)]
pub struct ParsedReport {
    report_key: i64,
    rows: Rows,
    content: ContentHasher,
    n_records: usize,
}

impl std::fmt::Debug for ParsedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedReport")
            .field("report_key", &self.report_key)
            .field("n_records", &self.n_records)
            .finish_non_exhaustive()
    }
}

impl ParsedReport {
    /// An empty report for a key from [`Store::reserve_report_key`].
    pub fn new(report_key: i64) -> Self {
        ParsedReport {
            report_key,
            ..ParsedReport::default()
        }
    }

    /// Empties the report for another key, keeping its memory.
    pub fn reset(&mut self, report_key: i64) {
        self.report_key = report_key;
        self.rows.clear();
        self.content.reset();
        self.n_records = 0;
    }
}

impl RecordSink for ParsedReport {
    type Error = std::convert::Infallible;

    fn record(&mut self, r: &Record) -> Result<(), Self::Error> {
        let index = i32::try_from(self.n_records).unwrap_or(i32::MAX);
        self.n_records += 1;
        hash_record(&mut self.content, r);
        self.rows.push_record(self.report_key, index, r);
        Ok(())
    }
}

impl Store {
    /// A key for an aggregate payload about to be parsed into a [`ParsedReport`]; the
    /// payload counts as read whatever becomes of it.
    pub fn reserve_report_key(&mut self) -> i64 {
        let key = self.ingest.next_report_key;
        self.ingest.next_report_key += 1;
        self.ingest.counts.n_payloads += 1;
        key
    }

    /// A payload whose very bytes were stored as a report before (or seen in this run as one):
    /// counted as a duplicate, without being parsed, of the report it returns. `None` for any
    /// other.
    pub fn known_report_payload(
        &mut self,
        hash: PayloadHash,
        n_bytes: u64,
    ) -> Result<Option<i64>, StoreError> {
        self.ensure_known()?;
        let st = &mut self.ingest;
        let Some(&of) = st.dedup.known_report_payloads.get(&hash) else {
            return Ok(None);
        };
        st.counts.n_payloads += 1;
        st.counts.n_duplicates += 1;
        st.counts.bytes_read += n_bytes;
        Ok(Some(of))
    }

    /// Stores a report parsed apart, unless it is a duplicate. `parsed` is left empty, ready
    /// for [`ParsedReport::reset`].
    pub fn add_report(
        &mut self,
        parsed: &mut ParsedReport,
        report: &Report,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        self.roll_back_spill()?;
        self.conclude(parsed, None, report, content, origin)
    }

    /// Whether accepted reports keep their raw payload (workers need not compress it if not).
    pub fn keeps_raw(&self) -> bool {
        self.options.keep_raw
    }
}

/// Receives one report's records while it is parsed; then [`ReportWriter::finish`] stores
/// it (or recognizes a duplicate), or [`ReportWriter::abort`] discards it.
pub struct ReportWriter<'s> {
    store: &'s mut Store,
    /// The rows not yet handed to the writer, and the content hash so far.
    parsed: ParsedReport,
    /// `Some(conflict_of)` when this replaces the stored report with the same key.
    replacing: Option<Option<i64>>,
}

impl std::fmt::Debug for ReportWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportWriter")
            .field("report_key", &self.parsed.report_key)
            .finish_non_exhaustive()
    }
}

/// Like [`ParsedReport`], but a report too large to buffer goes to the store in parts.
impl RecordSink for ReportWriter<'_> {
    type Error = StoreError;

    fn record(&mut self, r: &Record) -> Result<(), StoreError> {
        let Ok(()) = self.parsed.record(r);
        if self.parsed.rows.records_len() >= SPILL_RECORDS {
            let replacing = self.replacing.map(|_| self.parsed.report_key);
            self.store.spill(&mut self.parsed.rows, replacing, false)?;
        }
        Ok(())
    }
}

impl ReportWriter<'_> {
    /// Stores the parsed report unless it is a duplicate.
    pub fn finish(
        mut self,
        report: &Report,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        let replacing = self.replacing;
        self.store
            .conclude(&mut self.parsed, replacing, report, content, origin)
    }

    /// Discards what was received (the report failed to parse).
    pub fn abort(self) -> Result<(), StoreError> {
        self.store.roll_back_spill()
    }
}
