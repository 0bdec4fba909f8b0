//! Writing reports: identity and content decide new / duplicate / conflict; rows are
//! buffered per report, batched across reports, and inserted one Arrow batch per table.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use duckdb::params;
use duckdb::vtab::arrow::ArrowBatchRegistration;
use rua_align::normalize as normalize_domain;
use rua_report::{Record, RecordSink, Report, SinkError};

use crate::columns::{Columns, Kind, Row};
use crate::writer::{Job, Writer};
use crate::{Content, PayloadHash, Store, StoreError};
use Kind::{Blob, Bool, Int32 as I32, Int64 as I64, Text as T, Timestamp as Ts};

/// Records of one report buffered before its rows go to DuckDB inside its own transaction.
/// One such part is filled while the writer stores the one before: the 1,000,000-record
/// report peaked at 234-257 MiB with 20,000 (the higher when parsing ran ahead) and at
/// 220-234 MiB with 10,000, as fast within the noise.
const SPILL_RECORDS: usize = 10_000;
/// Rows of finished reports buffered before they go to the writer as one batch. Small
/// batches keep memory low (the writer commits many in one transaction): 100,000 typical
/// reports took 32 s and 253 MiB at these sizes, 33 s and 306 MiB at four times them, 39 s
/// and 244 MiB at half of them.
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

/// Where a payload came from, as stored.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source: String,
    pub chain: String,
    pub file_name: Option<String>,
    pub message_id: Option<String>,
    pub message_subject: Option<String>,
    pub message_from: Option<String>,
    pub message_date: Option<String>,
}

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New {
        report_key: i64,
    },
    /// Same identity and content as a report already stored: nothing written.
    Duplicate {
        of: i64,
    },
    /// Same identity, other content: stored, flagged, not counted.
    Conflict {
        report_key: i64,
        of: i64,
    },
    /// A stored report parsed again (`rua reparse`): its rows were replaced.
    Replaced {
        report_key: i64,
    },
}

/// A payload that could not be read as a report.
#[derive(Debug, Clone)]
pub struct RejectRow {
    pub payload_kind: String,
    pub reason_code: String,
    pub reason: String,
    pub origin: Origin,
}

/// Counts of one ingest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub n_payloads: u64,
    pub n_reports_new: u64,
    pub n_duplicates: u64,
    pub n_conflicts: u64,
    pub n_rejects: u64,
    pub n_other: u64,
    /// Records and messages of the reports added (new and conflicting).
    pub n_records: u64,
    pub n_messages: u64,
    pub bytes_read: u64,
}

#[derive(Debug, Default)]
struct Known {
    first_key: i64,
    /// Content hashes of the copies stored (one unless there are conflicts).
    hashes: Vec<blake3::Hash>,
}

#[derive(Default)]
pub(crate) struct State {
    known: HashMap<[u8; 32], Known>,
    /// Payloads of stored reports (and of duplicates seen in this run), with the report a
    /// copy of them duplicates.
    known_report_payloads: HashMap<PayloadHash, i64>,
    /// Payloads stored as rejects or other payloads.
    known_payloads: HashSet<PayloadHash>,
    next_report_key: i64,
    next_reject_key: i64,
    next_payload_key: i64,
    run_id: i64,
    run_started: Option<Instant>,
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

fn identity(
    org_name: Option<&str>,
    email: Option<&str>,
    report_id: &str,
    domain: Option<&str>,
    begin: i64,
    end: i64,
) -> [u8; 32] {
    let org = match org_name.map(str::trim).filter(|s| !s.is_empty()) {
        Some(org) => org.to_lowercase(),
        None => format!("email:{}", email.unwrap_or("").trim().to_lowercase()),
    };
    let mut h = blake3::Hasher::new();
    for part in [org.as_str(), report_id.trim(), domain.unwrap_or("")] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.update(&begin.to_le_bytes());
    h.update(&end.to_le_bytes());
    *h.finalize().as_bytes()
}

/// Now, in microseconds since the epoch.
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The /24 (IPv4) or /64 (IPv6) network of an address, shown as `192.0.2.0/24`.
struct Network(std::net::IpAddr);

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            std::net::IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                write!(f, "{a}.{b}.{c}.0/24")
            }
            std::net::IpAddr::V6(v6) => {
                let masked = u128::from(v6) & !((1u128 << 64) - 1);
                write!(f, "{}/64", std::net::Ipv6Addr::from(masked))
            }
        }
    }
}

fn i32_of(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Store {
    pub(crate) fn load_known(&mut self) -> Result<(), StoreError> {
        let st = &mut self.ingest;
        let (reports, rejects, payloads, runs): (i64, i64, i64, i64) = self
            .conn
            .query_row(include_str!("../../../sql/store/max_keys.sql"), [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(StoreError::db("reading keys"))?;
        st.next_report_key = reports + 1;
        st.next_reject_key = rejects + 1;
        st.next_payload_key = payloads + 1;
        st.run_id = runs;
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/known_reports.sql"))
            .map_err(StoreError::db("reading known reports"))?;
        let mut rows = stmt
            .query([])
            .map_err(StoreError::db("reading known reports"))?;
        while let Some(row) = rows
            .next()
            .map_err(StoreError::db("reading known reports"))?
        {
            let read = || -> duckdb::Result<_> {
                let key: i64 = row.get(0)?;
                let conflict_of: Option<i64> = row.get(1)?;
                let org: Option<String> = row.get(2)?;
                let email: Option<String> = row.get(3)?;
                let report_id: String = row.get(4)?;
                let domain: Option<String> = row.get(5)?;
                let begin: i64 = row.get(6)?;
                let end: i64 = row.get(7)?;
                let hash: String = row.get(8)?;
                let id = identity(
                    org.as_deref(),
                    email.as_deref(),
                    &report_id,
                    domain.as_deref(),
                    begin,
                    end,
                );
                Ok((id, conflict_of.unwrap_or(key), hash))
            };
            let (id, first, hash) = read().map_err(StoreError::db("reading known reports"))?;
            let known = st.known.entry(id).or_insert_with(|| Known {
                first_key: first,
                hashes: Vec::new(),
            });
            known.first_key = known.first_key.min(first);
            // A hash that is not one (changed by hand) matches no report.
            known.hashes.extend(blake3::Hash::from_hex(&hash).ok());
        }
        drop(rows);
        drop(stmt);
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/known_payloads.sql"))
            .map_err(StoreError::db("reading known payloads"))?;
        let payloads = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .map_err(StoreError::db("reading known payloads"))?;
        for payload in payloads {
            let (hash, report) = payload.map_err(StoreError::db("reading known payloads"))?;
            let Some(hash) = PayloadHash::from_hex(&hash) else {
                continue;
            };
            match report {
                Some(first) => {
                    st.known_report_payloads.insert(hash, first);
                }
                None => {
                    st.known_payloads.insert(hash);
                }
            }
        }
        Ok(())
    }

    /// Records the start of an ingest run.
    pub fn start_run(&mut self, command: &str) -> Result<i64, StoreError> {
        let st = &mut self.ingest;
        st.run_id += 1;
        st.run_started = Some(Instant::now());
        st.counts = RunCounts::default();
        self.conn
            .execute(
                include_str!("../../../sql/store/insert_run.sql"),
                params![st.run_id, command, env!("CARGO_PKG_VERSION")],
            )
            .map_err(StoreError::db("recording the ingest run"))?;
        Ok(st.run_id)
    }

    /// Commits everything pending and records the run's outcome.
    pub fn finish_run(&mut self, is_failed: bool) -> Result<RunCounts, StoreError> {
        self.commit()?;
        let st = &self.ingest;
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
        self.conn
            .execute(
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
            .map_err(StoreError::db("recording the ingest run"))?;
        Ok(c)
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
        let st = &mut self.ingest;
        st.counts.n_rejects += 1;
        st.counts.bytes_read += content.n_bytes;
        if !st.known_payloads.insert(content.hash) {
            return Ok(false);
        }
        let key = st.next_reject_key;
        st.next_reject_key += 1;
        st.pending
            .push_reject(key, st.run_id, now_micros(), &row, &content);
        self.maybe_flush()?;
        Ok(true)
    }

    /// Stores an SMTP TLS or failure report for a later ingest. Returns false for a copy of
    /// one already kept.
    pub fn other_payload(
        &mut self,
        kind: &str,
        origin: Origin,
        content: Content,
    ) -> Result<bool, StoreError> {
        let st = &mut self.ingest;
        st.counts.n_payloads += 1;
        st.counts.n_other += 1;
        st.counts.bytes_read += content.n_bytes;
        if !st.known_payloads.insert(content.hash) {
            return Ok(false);
        }
        let key = st.next_payload_key;
        st.next_payload_key += 1;
        st.pending
            .push_other(key, st.run_id, now_micros(), kind, &origin, &content);
        self.maybe_flush()?;
        Ok(true)
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

    /// Hands a job to the background writer (started on first use).
    fn submit(&mut self, job: Job) -> Result<(), StoreError> {
        if self.writer.is_none() {
            let conn = self
                .conn
                .try_clone()
                .map_err(StoreError::db("starting the database writer"))?;
            self.writer = Some(Writer::start(conn));
        }
        match self.writer.as_mut() {
            Some(writer) => writer.submit(job),
            None => Err(StoreError::Other("the database writer stopped".into())),
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
        let outcome = match (replacing, st.known.get_mut(&id)) {
            (Some(_), _) => Outcome::Replaced { report_key },
            (None, None) => {
                st.known.insert(
                    id,
                    Known {
                        first_key: report_key,
                        hashes: vec![content_hash],
                    },
                );
                Outcome::New { report_key }
            }
            (None, Some(known)) if known.hashes.contains(&content_hash) => Outcome::Duplicate {
                of: known.first_key,
            },
            (None, Some(known)) => {
                known.hashes.push(content_hash);
                Outcome::Conflict {
                    report_key,
                    of: known.first_key,
                }
            }
        };
        let first = match outcome {
            Outcome::New { report_key } => report_key,
            Outcome::Replaced { report_key } => replacing.flatten().unwrap_or(report_key),
            Outcome::Duplicate { of } | Outcome::Conflict { of, .. } => of,
        };
        st.known_report_payloads
            .entry(content.hash)
            .or_insert(first);
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
            report,
            domain: domain.as_deref(),
            content_hash: &content_hash.to_hex(),
            payload_hash: &content.hash.hex(),
            n_bytes: content.n_bytes,
            raw: raw.as_deref(),
            conflict_of,
            origin,
        };
        parsed.rows.push_report(&row, now_micros());
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
    fn record(&mut self, r: &Record) -> Result<(), SinkError> {
        let index = i32_of(self.n_records);
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
    pub fn known_report_payload(&mut self, hash: PayloadHash, n_bytes: u64) -> Option<i64> {
        let st = &mut self.ingest;
        let of = *st.known_report_payloads.get(&hash)?;
        st.counts.n_payloads += 1;
        st.counts.n_duplicates += 1;
        st.counts.bytes_read += n_bytes;
        Some(of)
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
    fn record(&mut self, r: &Record) -> Result<(), SinkError> {
        self.parsed.record(r)?;
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

/// BLAKE3 fed through a buffer. The content hash takes a few dozen values of a few bytes
/// each per record, and BLAKE3 is many times faster given kilobytes at once (it hashes
/// 1 KB chunks side by side) than called once per value. The hash is the same however its
/// input is split.
#[derive(Default)]
struct ContentHasher {
    hasher: blake3::Hasher,
    pending: Vec<u8>,
}

/// Bytes buffered before they go to the hasher: 16 chunks, what AVX-512 hashes at once.
const HASH_BUFFER: usize = 16 << 10;

impl ContentHasher {
    fn update(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= HASH_BUFFER {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
    }

    /// The hash of everything fed since the last one (or a reset); then starts afresh.
    fn finish(&mut self) -> blake3::Hash {
        self.hasher.update(&self.pending);
        let hash = self.hasher.finalize();
        self.reset();
        hash
    }

    fn reset(&mut self) {
        self.hasher.reset();
        self.pending.clear();
    }
}

/// One value into the content hash: present or absent, then the text, then a separator.
fn feed(h: &mut ContentHasher, value: Option<&str>) {
    match value {
        Some(v) => {
            h.update(&[1]);
            h.update(v.as_bytes());
        }
        None => {
            h.update(&[0]);
        }
    }
    h.update(&[0x1f]);
}

/// A record's values as the reporter wrote them (trimmed), in document order. The same report
/// re-encoded (BOM, line endings, indentation, entities) hashes the same; any changed value
/// does not.
fn hash_record(h: &mut ContentHasher, r: &Record) {
    feed(h, Some(&r.source_ip_raw));
    h.update(&r.count.to_le_bytes());
    for c in [&r.disposition.raw, &r.dkim_verdict.raw, &r.spf_verdict.raw] {
        feed(h, c.as_deref());
    }
    for reason in &r.reasons {
        feed(h, reason.kind.raw.as_deref());
        feed(h, reason.comment.as_deref());
    }
    h.update(&[0x1d]);
    for v in [&r.header_from, &r.envelope_from, &r.envelope_to] {
        feed(h, v.as_deref());
    }
    for d in &r.dkim {
        for v in [
            d.domain.as_deref(),
            d.selector.as_deref(),
            d.result.raw.as_deref(),
            d.human_result.as_deref(),
        ] {
            feed(h, v);
        }
    }
    h.update(&[0x1d]);
    for f in &r.spf {
        for v in [
            f.domain.as_deref(),
            f.scope.raw.as_deref(),
            f.result.raw.as_deref(),
            f.human_result.as_deref(),
        ] {
            feed(h, v);
        }
    }
    h.update(&[0x1e]);
}

/// The report's metadata and policy, after its records.
fn hash_report(h: &mut ContentHasher, r: &Report) {
    let p = &r.policy;
    for v in [
        r.org_name.as_deref(),
        r.email.as_deref(),
        r.extra_contact_info.as_deref(),
        Some(r.report_id.as_str()),
        Some(r.begin_raw.as_str()),
        Some(r.end_raw.as_str()),
        r.generator.as_deref(),
        p.domain.as_deref(),
        p.adkim.raw.as_deref(),
        p.aspf.raw.as_deref(),
        p.p.raw.as_deref(),
        p.sp.raw.as_deref(),
        p.np.raw.as_deref(),
        p.pct_raw.as_deref(),
        p.fo.as_deref(),
        p.testing.raw.as_deref(),
        p.discovery_method.raw.as_deref(),
    ] {
        feed(h, v);
    }
    for e in &r.errors {
        feed(h, Some(e));
    }
}

/// A finished report's own values, for its `reports` row.
struct ReportRow<'a> {
    key: i64,
    run_id: i64,
    report: &'a Report,
    domain: Option<&'a str>,
    content_hash: &'a str,
    payload_hash: &'a str,
    n_bytes: u64,
    raw: Option<&'a [u8]>,
    conflict_of: Option<i64>,
    origin: &'a Origin,
}

/// `append_batch.sql` for each of [`TABLES`], in order (filled in once, not per batch).
static APPEND_BATCH: LazyLock<[String; TABLES.len()]> = LazyLock::new(|| {
    TABLES.map(|(name, _)| {
        include_str!("../../../sql/store/append_batch.sql").replace("{table}", name)
    })
});

/// Column kinds of each table, in the order of `sql/migrations` (checked by a test).
pub(crate) const TABLES: [(&str, &[Kind]); 9] = [
    (
        "reports",
        &[
            I64, I64, Ts, T, T, T, T, Ts, Ts, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, I32, T,
            T, T, T, T, T, T, T, Bool, Bool, I64, I64, T, I64, I64, T, T, T, T, T, T, T, Blob, T,
        ],
    ),
    ("report_errors", &[I64, I32, T]),
    ("report_warnings", &[I64, T, T, T, I64, I64]),
    (
        "records",
        &[
            I64, I32, T, T, T, I64, T, T, T, T, T, T, T, T, T, T, T, T, T, I32, I32, Bool, Bool,
            Bool, Bool, Bool, Bool,
        ],
    ),
    ("dkim_results", &[I64, I32, I32, T, T, T, T, T, T]),
    ("spf_results", &[I64, I32, I32, T, T, T, T, T, T, T]),
    ("override_reasons", &[I64, I32, I32, T, T, T]),
    (
        "rejects",
        &[I64, I64, Ts, T, T, T, T, T, T, T, T, T, T, I64, Blob],
    ),
    (
        "other_payloads",
        &[I64, I64, Ts, T, T, T, T, T, T, T, T, I64, Blob],
    ),
];

/// The tables an ingest appends to, in the order it fills them.
pub const INGESTED_TABLES: [&str; TABLES.len()] = {
    let mut names = [""; TABLES.len()];
    let mut i = 0;
    while i < TABLES.len() {
        names[i] = TABLES[i].0;
        i += 1;
    }
    names
};

/// Rows waiting to be appended, one [`Columns`] per table of [`TABLES`], in that order.
pub(crate) struct Rows {
    tables: [Columns; 9],
}

const RECORDS: usize = 3;
const REJECTS: usize = 7;
const OTHERS: usize = 8;

impl Default for Rows {
    fn default() -> Self {
        Rows {
            tables: TABLES.map(|(_, kinds)| Columns::new(kinds)),
        }
    }
}

fn n64(n: u64) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Rows {
    fn len(&self) -> usize {
        self.tables.iter().map(Columns::len).sum()
    }

    fn is_empty(&self) -> bool {
        self.tables.iter().all(Columns::is_empty)
    }

    /// Bytes of text and blobs held.
    fn bytes_len(&self) -> usize {
        self.tables.iter().map(Columns::bytes_len).sum()
    }

    fn records_len(&self) -> usize {
        self.tables[RECORDS].len()
    }

    fn clear(&mut self) {
        self.tables.iter_mut().for_each(Columns::clear);
    }

    /// Empty rows with room for these (see [`Columns::sized_like`]).
    fn sized_like(&self) -> Rows {
        Rows {
            tables: std::array::from_fn(|i| self.tables[i].sized_like()),
        }
    }

    fn extend(&mut self, other: &Rows) {
        for (mine, theirs) in self.tables.iter_mut().zip(&other.tables) {
            mine.extend(theirs);
        }
    }

    fn push_report(&mut self, f: &ReportRow<'_>, now: i64) {
        let r = f.report;
        let p = &r.policy;
        let o = f.origin;
        let [reports, errors, warnings, ..] = &mut self.tables;
        reports
            .row()
            .int64(Some(f.key))
            .int64(Some(f.run_id))
            .int64(Some(now))
            .text(r.org_name.as_deref())
            .text(r.email.as_deref())
            .text(r.extra_contact_info.as_deref())
            .text(Some(&r.report_id))
            .seconds(r.begin)
            .seconds(r.end)
            .text(Some(&r.begin_raw))
            .text(Some(&r.end_raw))
            .text(r.generator.as_deref())
            .text(f.domain)
            .text(p.domain.as_deref())
            .text(p.adkim.as_str())
            .text(p.adkim.raw.as_deref())
            .text(p.aspf.as_str())
            .text(p.aspf.raw.as_deref())
            .text(p.p.as_str())
            .text(p.p.raw.as_deref())
            .text(p.sp.as_str())
            .text(p.sp.raw.as_deref())
            .text(p.np.as_str())
            .text(p.np.raw.as_deref())
            .int32(p.pct.map(|pct| i32::try_from(pct).unwrap_or(i32::MAX)))
            .text(p.pct_raw.as_deref())
            .text(p.fo.as_deref())
            .text(p.testing.as_str())
            .text(p.testing.raw.as_deref())
            .text(p.discovery_method.as_str())
            .text(p.discovery_method.raw.as_deref())
            .text(r.namespace.as_deref())
            .text(r.version.as_deref())
            .bool(r.is_dmarcbis())
            .bool(r.is_recovered)
            .int64(n64(r.n_records))
            .int64(n64(r.n_messages))
            .text(Some(f.content_hash))
            .int64(n64(f.n_bytes))
            .int64(f.conflict_of)
            .text(Some(&o.source))
            .text(Some(&o.chain))
            .text(o.file_name.as_deref())
            .text(o.message_id.as_deref())
            .text(o.message_subject.as_deref())
            .text(o.message_from.as_deref())
            .text(o.message_date.as_deref())
            .blob(f.raw)
            .text(Some(f.payload_hash));
        for (i, e) in r.errors.iter().enumerate() {
            errors
                .row()
                .int64(Some(f.key))
                .int32(Some(i32_of(i)))
                .text(Some(e));
        }
        for w in &r.warnings {
            warnings
                .row()
                .int64(Some(f.key))
                .text(Some(w.code.as_str()))
                .text(Some(&w.path))
                .text(w.raw.as_deref())
                .int64(n64(w.count))
                .int64(n64(w.offset));
        }
    }

    fn push_record(&mut self, key: i64, index: i32, r: &Record) {
        let [.., records, dkim, spf, reasons, _, _] = &mut self.tables;
        let header_from = r.header_from.as_deref().map(normalize_domain);
        let header_from_org = header_from.as_deref().map(rua_align::organizational_domain);
        let envelope_from = r.envelope_from.as_deref().map(normalize_domain);
        let envelope_to = r.envelope_to.as_deref().map(normalize_domain);
        let alignment = rua_align::evaluate(r);
        records
            .row()
            .int64(Some(key))
            .int32(Some(index))
            .display(r.source_ip)
            .text(Some(&r.source_ip_raw))
            .display(r.source_ip.map(Network))
            .int64(n64(r.count))
            .text(r.disposition.as_str())
            .text(r.disposition.raw.as_deref())
            .text(r.dkim_verdict.as_str())
            .text(r.dkim_verdict.raw.as_deref())
            .text(r.spf_verdict.as_str())
            .text(r.spf_verdict.raw.as_deref())
            .text(header_from.as_deref())
            .text(r.header_from.as_deref())
            .text(envelope_from.as_deref())
            .text(r.envelope_from.as_deref())
            .text(envelope_to.as_deref())
            .text(r.envelope_to.as_deref())
            .text(header_from_org)
            .int32(Some(i32_of(r.dkim.len())))
            .int32(Some(i32_of(r.spf.len())))
            .bool(alignment.is_dkim_pass)
            .bool(alignment.is_spf_pass)
            .bool(alignment.is_dkim_aligned_relaxed)
            .bool(alignment.is_dkim_aligned_strict)
            .bool(alignment.is_spf_aligned_relaxed)
            .bool(alignment.is_spf_aligned_strict);
        for (i, d) in r.dkim.iter().enumerate() {
            let domain = d.domain.as_deref().map(normalize_domain);
            dkim.row()
                .int64(Some(key))
                .int32(Some(index))
                .int32(Some(i32_of(i)))
                .text(domain.as_deref())
                .text(d.domain.as_deref())
                .text(d.selector.as_deref())
                .text(d.result.as_str())
                .text(d.result.raw.as_deref())
                .text(d.human_result.as_deref());
        }
        for (i, f) in r.spf.iter().enumerate() {
            let domain = f.domain.as_deref().map(normalize_domain);
            spf.row()
                .int64(Some(key))
                .int32(Some(index))
                .int32(Some(i32_of(i)))
                .text(domain.as_deref())
                .text(f.domain.as_deref())
                .text(f.scope.as_str())
                .text(f.scope.raw.as_deref())
                .text(f.result.as_str())
                .text(f.result.raw.as_deref())
                .text(f.human_result.as_deref());
        }
        for (i, reason) in r.reasons.iter().enumerate() {
            reasons
                .row()
                .int64(Some(key))
                .int32(Some(index))
                .int32(Some(i32_of(i)))
                .text(reason.kind.as_str())
                .text(reason.kind.raw.as_deref())
                .text(reason.comment.as_deref());
        }
    }

    fn push_reject(&mut self, key: i64, run_id: i64, now: i64, row: &RejectRow, content: &Content) {
        let mut r = self.tables[REJECTS].row();
        r.int64(Some(key))
            .int64(Some(run_id))
            .int64(Some(now))
            .text(Some(&row.payload_kind))
            .text(Some(&row.reason_code))
            .text(Some(&row.reason));
        payload_tail(&mut r, &row.origin, content);
    }

    fn push_other(
        &mut self,
        key: i64,
        run_id: i64,
        now: i64,
        kind: &str,
        origin: &Origin,
        content: &Content,
    ) {
        let mut r = self.tables[OTHERS].row();
        r.int64(Some(key))
            .int64(Some(run_id))
            .int64(Some(now))
            .text(Some(kind));
        payload_tail(&mut r, origin, content);
    }

    /// Appends every buffered row in the connection's current transaction, then empties.
    ///
    /// Each table's rows go in as one `INSERT ... SELECT` over the Arrow batch: DuckDB then
    /// writes them straight into the table, where its appender would first copy them into a
    /// collection of its own and scan that again (a tenth of an ingest's time, measured).
    pub(crate) fn append(&mut self, conn: &duckdb::Connection) -> duckdb::Result<()> {
        for (columns, sql) in self.tables.iter_mut().zip(APPEND_BATCH.iter()) {
            if columns.is_empty() {
                continue;
            }
            let batch = columns
                .take_batch()
                .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))?;
            let batch = ArrowBatchRegistration::new(batch);
            conn.prepare_cached(sql)?.execute([&batch])?;
        }
        Ok(())
    }
}

/// The columns `rejects` and `other_payloads` share after their own: where the payload came
/// from and what is kept of it.
fn payload_tail(r: &mut Row<'_>, o: &Origin, content: &Content) {
    r.text(Some(&o.source))
        .text(Some(&o.chain))
        .text(o.file_name.as_deref())
        .text(o.message_id.as_deref())
        .text(o.message_subject.as_deref())
        .text(o.message_from.as_deref())
        .text(Some(&content.hash.hex()))
        .int64(n64(content.n_bytes))
        .blob(content.raw_gz.as_deref());
}

#[cfg(test)]
mod tests {
    #[test]
    fn appended_columns_have_the_kinds_the_schema_declares() {
        let dir = std::env::temp_dir().join(format!("rua-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("kinds.duckdb");
        let store = crate::Store::open(&db, &crate::OpenOptions::default()).expect("opens");
        for (table, kinds) in super::TABLES {
            let mut stmt = store
                .conn
                .prepare(include_str!("../../../sql/store/column_types.sql"))
                .expect("prepares");
            let declared: Vec<String> = stmt
                .query_map([table], |r| r.get(0))
                .expect("queries")
                .collect::<Result<_, _>>()
                .expect("reads");
            let ours: Vec<&str> = kinds.iter().map(|k| k.sql_name()).collect();
            assert_eq!(ours, declared, "column kinds of {table}");
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_content_hash_does_not_depend_on_how_its_input_is_buffered() {
        // Values of every size, across the buffer's limit several times over.
        let values: Vec<Vec<u8>> = (0..5000_usize)
            .map(|i| vec![(i % 251) as u8; (i * 37) % 97])
            .collect();
        let mut direct = blake3::Hasher::new();
        let mut buffered = super::ContentHasher::default();
        for v in &values {
            direct.update(v);
            buffered.update(v);
        }
        assert_eq!(buffered.finish(), direct.finalize());
        // It starts afresh after a hash.
        buffered.update(b"x");
        assert_eq!(buffered.finish(), blake3::hash(b"x"));
    }

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        let net = |s: &str| super::Network(s.parse().expect("ip")).to_string();
        assert_eq!(net("192.0.2.77"), "192.0.2.0/24");
        assert_eq!(net("2001:db8:f403:c005::5"), "2001:db8:f403:c005::/64");
        assert_eq!(net("2001:db8::1"), "2001:db8::/64");
    }
}
