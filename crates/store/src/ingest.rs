//! Writing reports: identity and content decide new / duplicate / conflict; rows are
//! buffered per report, batched across reports, and appended with DuckDB appenders.

use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use duckdb::params;
use duckdb::types::{TimeUnit, Value as DbValue};
use rua_report::{Coded, Record, RecordSink, Report, SinkError, Vocabulary};

use crate::writer::{Job, Writer};
use crate::{Content, Store, StoreError};

/// Records of one report buffered before its rows go to DuckDB inside its own transaction.
const SPILL_RECORDS: usize = 50_000;
/// Rows of finished reports buffered before one batch transaction commits them.
const BATCH_ROWS: usize = 100_000;
const BATCH_REPORTS: usize = 5_000;

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

use rua_align::normalize as normalize_domain;

#[derive(Debug, Default)]
struct Known {
    first_key: i64,
    hashes: Vec<String>,
}

#[derive(Default)]
pub(crate) struct State {
    known: HashMap<[u8; 32], Known>,
    known_payloads: HashSet<String>,
    next_report_key: i64,
    next_reject_key: i64,
    next_payload_key: i64,
    run_id: i64,
    run_started: Option<Instant>,
    pending: Rows,
    /// Reports in `pending` that replace stored ones: their old rows go in the same commit.
    pending_replaced: Vec<i64>,
    n_pending_reports: usize,
    current: Rows,
    /// The current report was too large to buffer: its rows are being written inside an
    /// open transaction that commits (or rolls back) with the report.
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

fn now_micros() -> DbValue {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    DbValue::Timestamp(TimeUnit::Microsecond, micros)
}

fn coded<T: Vocabulary>(c: &Coded<T>) -> (Option<&'static str>, Option<String>) {
    (c.as_str(), c.raw.as_deref().map(str::to_owned))
}

fn domain(raw: &Option<String>) -> (Option<String>, Option<String>) {
    (raw.as_deref().map(normalize_domain), raw.clone())
}

/// The /24 (IPv4) or /64 (IPv6) network of an address, as `192.0.2.0/24`.
fn network(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        std::net::IpAddr::V6(v6) => {
            let masked = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(masked))
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
            known.hashes.push(hash);
        }
        drop(rows);
        drop(stmt);
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/known_payloads.sql"))
            .map_err(StoreError::db("reading known rejects"))?;
        let hashes = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(StoreError::db("reading known rejects"))?;
        for hash in hashes {
            st.known_payloads
                .insert(hash.map_err(StoreError::db("reading known rejects"))?);
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
        if self.ingest.is_spilled || !self.ingest.current.is_empty() {
            self.discard_current()?;
        }
        self.ingest.counts.n_payloads += 1;
        Ok(ReportWriter {
            store: self,
            content: blake3::Hasher::new(),
            report_key,
            replacing,
            n_records: 0,
        })
    }

    /// Stores a payload that could not be read. Returns false when the same bytes were
    /// rejected before (nothing is written again).
    pub fn reject(&mut self, row: RejectRow, content: Content) -> Result<bool, StoreError> {
        let st = &mut self.ingest;
        st.counts.n_rejects += 1;
        st.counts.bytes_read += content.n_bytes;
        if !st.known_payloads.insert(content.hash.clone()) {
            return Ok(false);
        }
        let key = st.next_reject_key;
        st.next_reject_key += 1;
        st.pending.rejects.push(RejectFull {
            key,
            run_id: st.run_id,
            row,
            content,
        });
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
        if !st.known_payloads.insert(content.hash.clone()) {
            return Ok(false);
        }
        let key = st.next_payload_key;
        st.next_payload_key += 1;
        let row = OtherFull {
            key,
            run_id: st.run_id,
            kind: kind.to_owned(),
            origin,
            content,
        };
        st.pending.others.push(row);
        self.maybe_flush()?;
        Ok(true)
    }

    fn maybe_flush(&mut self) -> Result<(), StoreError> {
        let st = &self.ingest;
        if st.pending.len() >= BATCH_ROWS || st.n_pending_reports >= BATCH_REPORTS {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Hands the finished reports buffered so far to the background writer, which commits
    /// them in one transaction while parsing goes on.
    fn flush_pending(&mut self) -> Result<(), StoreError> {
        if self.ingest.pending.is_empty() {
            return Ok(());
        }
        let job = Job {
            rows: std::mem::take(&mut self.ingest.pending),
            replaced: std::mem::take(&mut self.ingest.pending_replaced),
        };
        self.ingest.n_pending_reports = 0;
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
        self.flush_pending()
    }

    /// Commits every finished report: when this returns, they are durable.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.flush_pending()?;
        match self.writer.as_mut() {
            Some(writer) => writer.sync(),
            None => Ok(()),
        }
    }

    /// Writes the current report's rows inside its own open transaction (after removing the
    /// rows of the stored report it replaces, if any).
    fn spill(&mut self, replacing: Option<i64>) -> Result<(), StoreError> {
        if !self.ingest.is_spilled {
            self.commit()?;
            self.conn
                .execute_batch("BEGIN TRANSACTION")
                .map_err(StoreError::db("writing reports"))?;
            self.ingest.is_spilled = true;
            if let Some(key) = replacing {
                Store::delete_reports(&self.conn, &[key])
                    .map_err(StoreError::db("replacing a report"))?;
            }
        }
        let result = self.ingest.current.append(&self.conn);
        result.map_err(StoreError::db("writing reports"))
    }

    fn discard_current(&mut self) -> Result<(), StoreError> {
        self.ingest.current.clear();
        if self.ingest.is_spilled {
            self.ingest.is_spilled = false;
            self.conn
                .execute_batch("ROLLBACK")
                .map_err(StoreError::db("discarding a report"))?;
        }
        Ok(())
    }
}

/// Receives one report's records while it is parsed; then [`ReportWriter::finish`] stores
/// it (or recognizes a duplicate), or [`ReportWriter::abort`] discards it.
pub struct ReportWriter<'s> {
    store: &'s mut Store,
    /// Hash of the report's content as parsed (see `content_hash`).
    content: blake3::Hasher,
    report_key: i64,
    /// `Some(conflict_of)` when this replaces the stored report with the same key.
    replacing: Option<Option<i64>>,
    n_records: usize,
}

impl std::fmt::Debug for ReportWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportWriter")
            .field("report_key", &self.report_key)
            .finish_non_exhaustive()
    }
}

impl RecordSink for ReportWriter<'_> {
    fn record(&mut self, r: &Record) -> Result<(), SinkError> {
        let key = self.report_key;
        let index = i32_of(self.n_records);
        self.n_records += 1;
        hash_record(&mut self.content, r);
        let rows = &mut self.store.ingest.current;
        rows.push_record(key, index, r);
        if rows.records.len() >= SPILL_RECORDS {
            let replacing = self.replacing.map(|_| self.report_key);
            self.store.spill(replacing)?;
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
        hash_report(&mut self.content, report);
        let content_hash = self.content.finalize().to_hex().to_string();
        let store = self.store;
        let st = &mut store.ingest;
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
        let outcome = match (self.replacing, st.known.get_mut(&id)) {
            (Some(_), _) => Outcome::Replaced {
                report_key: self.report_key,
            },
            (None, None) => {
                st.known.insert(
                    id,
                    Known {
                        first_key: self.report_key,
                        hashes: vec![content_hash.clone()],
                    },
                );
                Outcome::New {
                    report_key: self.report_key,
                }
            }
            (None, Some(known)) if known.hashes.contains(&content_hash) => Outcome::Duplicate {
                of: known.first_key,
            },
            (None, Some(known)) => {
                known.hashes.push(content_hash.clone());
                Outcome::Conflict {
                    report_key: self.report_key,
                    of: known.first_key,
                }
            }
        };
        let conflict_of = match outcome {
            Outcome::Duplicate { .. } => {
                st.counts.n_duplicates += 1;
                store.discard_current()?;
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
            Outcome::Replaced { .. } => self.replacing.flatten(),
        };
        st.counts.n_records += report.n_records;
        st.counts.n_messages += report.n_messages;
        let raw = if store.options.keep_raw {
            content.raw_gz
        } else {
            None
        };
        let run_id = st.run_id;
        st.current.push_report(ReportFull {
            key: self.report_key,
            run_id,
            report: report.clone(),
            domain,
            content_hash,
            n_bytes: content.n_bytes,
            raw,
            conflict_of,
            origin: origin.clone(),
        });
        if st.is_spilled {
            let result = st
                .current
                .append(&store.conn)
                .and_then(|()| store.conn.execute_batch("COMMIT"));
            st.is_spilled = false;
            if let Err(e) = result {
                let _ = store.conn.execute_batch("ROLLBACK");
                return Err(StoreError::Db {
                    context: "writing reports",
                    source: e,
                });
            }
        } else {
            let current = std::mem::take(&mut st.current);
            st.pending.extend(current);
            if self.replacing.is_some() {
                st.pending_replaced.push(self.report_key);
            }
            st.n_pending_reports += 1;
            store.maybe_flush()?;
        }
        Ok(outcome)
    }

    /// Discards what was received (the report failed to parse).
    pub fn abort(self) -> Result<(), StoreError> {
        self.store.discard_current()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn networks_are_slash_24_and_slash_64() {
        let net = |s: &str| super::network(s.parse().expect("ip"));
        assert_eq!(net("192.0.2.77"), "192.0.2.0/24");
        assert_eq!(net("2001:db8:f403:c005::5"), "2001:db8:f403:c005::/64");
        assert_eq!(net("2001:db8::1"), "2001:db8::/64");
    }
}

/// One value into the content hash: present or absent, then the text, then a separator.
fn feed(h: &mut blake3::Hasher, value: Option<&str>) {
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
fn hash_record(h: &mut blake3::Hasher, r: &Record) {
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
fn hash_report(h: &mut blake3::Hasher, r: &Report) {
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

struct ReportFull {
    key: i64,
    run_id: i64,
    report: Report,
    domain: Option<String>,
    content_hash: String,
    n_bytes: u64,
    raw: Option<Vec<u8>>,
    conflict_of: Option<i64>,
    origin: Origin,
}

struct RejectFull {
    key: i64,
    run_id: i64,
    row: RejectRow,
    content: Content,
}

struct OtherFull {
    key: i64,
    run_id: i64,
    kind: String,
    origin: Origin,
    content: Content,
}

struct RecordRow {
    key: i64,
    index: i32,
    source_ip: Option<String>,
    source_ip_raw: String,
    source_network: Option<String>,
    count: i64,
    disposition: (Option<&'static str>, Option<String>),
    dkim: (Option<&'static str>, Option<String>),
    spf: (Option<&'static str>, Option<String>),
    header_from: (Option<String>, Option<String>),
    envelope_from: (Option<String>, Option<String>),
    envelope_to: (Option<String>, Option<String>),
    header_from_org: Option<String>,
    n_dkim: i32,
    n_spf: i32,
    alignment: rua_align::Alignment,
}

struct AuthRow {
    key: i64,
    record: i32,
    index: i32,
    domain: (Option<String>, Option<String>),
    /// DKIM selector, or SPF scope (normalized).
    detail: Option<String>,
    scope_raw: Option<String>,
    result: (Option<&'static str>, Option<String>),
    human: Option<String>,
}

struct ReasonRow {
    key: i64,
    record: i32,
    index: i32,
    kind: (Option<&'static str>, Option<String>),
    comment: Option<String>,
}

/// Rows waiting to be appended, by table.
#[derive(Default)]
pub(crate) struct Rows {
    reports: Vec<ReportFull>,
    records: Vec<RecordRow>,
    dkim: Vec<AuthRow>,
    spf: Vec<AuthRow>,
    reasons: Vec<ReasonRow>,
    rejects: Vec<RejectFull>,
    others: Vec<OtherFull>,
}

impl Rows {
    fn len(&self) -> usize {
        self.reports.len()
            + self.records.len()
            + self.dkim.len()
            + self.spf.len()
            + self.reasons.len()
            + self.rejects.len()
            + self.others.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn clear(&mut self) {
        *self = Rows::default();
    }

    fn extend(&mut self, other: Rows) {
        self.reports.extend(other.reports);
        self.records.extend(other.records);
        self.dkim.extend(other.dkim);
        self.spf.extend(other.spf);
        self.reasons.extend(other.reasons);
        self.rejects.extend(other.rejects);
        self.others.extend(other.others);
    }

    fn push_report(&mut self, report: ReportFull) {
        self.reports.push(report);
    }

    fn push_record(&mut self, key: i64, index: i32, r: &Record) {
        let header_from = domain(&r.header_from);
        let header_from_org = header_from
            .0
            .as_deref()
            .map(|d| rua_align::organizational_domain(d).to_owned());
        self.records.push(RecordRow {
            key,
            index,
            source_ip: r.source_ip.map(|ip| ip.to_string()),
            source_ip_raw: r.source_ip_raw.clone(),
            source_network: r.source_ip.map(network),
            count: i64::try_from(r.count).unwrap_or(i64::MAX),
            disposition: coded(&r.disposition),
            dkim: coded(&r.dkim_verdict),
            spf: coded(&r.spf_verdict),
            header_from,
            envelope_from: domain(&r.envelope_from),
            envelope_to: domain(&r.envelope_to),
            header_from_org,
            n_dkim: i32_of(r.dkim.len()),
            n_spf: i32_of(r.spf.len()),
            alignment: rua_align::evaluate(r),
        });
        for (i, d) in r.dkim.iter().enumerate() {
            self.dkim.push(AuthRow {
                key,
                record: index,
                index: i32_of(i),
                domain: domain(&d.domain),
                detail: d.selector.clone(),
                scope_raw: None,
                result: coded(&d.result),
                human: d.human_result.clone(),
            });
        }
        for (i, s) in r.spf.iter().enumerate() {
            self.spf.push(AuthRow {
                key,
                record: index,
                index: i32_of(i),
                domain: domain(&s.domain),
                detail: s.scope.as_str().map(str::to_owned),
                scope_raw: s.scope.raw.as_deref().map(str::to_owned),
                result: coded(&s.result),
                human: s.human_result.clone(),
            });
        }
        for (i, reason) in r.reasons.iter().enumerate() {
            self.reasons.push(ReasonRow {
                key,
                record: index,
                index: i32_of(i),
                kind: coded(&reason.kind),
                comment: reason.comment.clone(),
            });
        }
    }

    /// Appends every buffered row in the connection's current transaction, then empties.
    pub(crate) fn append(&mut self, conn: &duckdb::Connection) -> duckdb::Result<()> {
        let now = now_micros();
        if !self.reports.is_empty() {
            let mut app = conn.appender("reports")?;
            let mut errors = conn.appender("report_errors")?;
            let mut warnings = conn.appender("report_warnings")?;
            for f in self.reports.drain(..) {
                let r = &f.report;
                let p = &r.policy;
                let (adkim, adkim_raw) = coded(&p.adkim);
                let (aspf, aspf_raw) = coded(&p.aspf);
                let (pol_p, p_raw) = coded(&p.p);
                let (sp, sp_raw) = coded(&p.sp);
                let (np, np_raw) = coded(&p.np);
                let (testing, testing_raw) = coded(&p.testing);
                let (discovery, discovery_raw) = coded(&p.discovery_method);
                let o = &f.origin;
                app.append_row(params![
                    f.key,
                    f.run_id,
                    now.clone(),
                    r.org_name,
                    r.email,
                    r.extra_contact_info,
                    r.report_id,
                    DbValue::Timestamp(TimeUnit::Second, r.begin),
                    DbValue::Timestamp(TimeUnit::Second, r.end),
                    r.begin_raw,
                    r.end_raw,
                    r.generator,
                    f.domain,
                    p.domain,
                    adkim,
                    adkim_raw,
                    aspf,
                    aspf_raw,
                    pol_p,
                    p_raw,
                    sp,
                    sp_raw,
                    np,
                    np_raw,
                    p.pct.map(i64::from),
                    p.pct_raw,
                    p.fo,
                    testing,
                    testing_raw,
                    discovery,
                    discovery_raw,
                    r.namespace,
                    r.version,
                    r.is_dmarcbis(),
                    r.is_recovered,
                    i64::try_from(r.n_records).unwrap_or(i64::MAX),
                    i64::try_from(r.n_messages).unwrap_or(i64::MAX),
                    f.content_hash,
                    i64::try_from(f.n_bytes).unwrap_or(i64::MAX),
                    f.conflict_of,
                    o.source,
                    o.chain,
                    o.file_name,
                    o.message_id,
                    o.message_subject,
                    o.message_from,
                    o.message_date,
                    f.raw,
                ])?;
                for (i, e) in r.errors.iter().enumerate() {
                    errors.append_row(params![f.key, i32_of(i), e])?;
                }
                for w in &r.warnings {
                    warnings.append_row(params![
                        f.key,
                        w.code.as_str(),
                        w.path,
                        w.raw,
                        i64::try_from(w.count).unwrap_or(i64::MAX),
                        i64::try_from(w.offset).unwrap_or(i64::MAX),
                    ])?;
                }
            }
            app.flush()?;
            errors.flush()?;
            warnings.flush()?;
        }
        if !self.records.is_empty() {
            let mut app = conn.appender("records")?;
            for r in self.records.drain(..) {
                app.append_row(params![
                    r.key,
                    r.index,
                    r.source_ip,
                    r.source_ip_raw,
                    r.source_network,
                    r.count,
                    r.disposition.0,
                    r.disposition.1,
                    r.dkim.0,
                    r.dkim.1,
                    r.spf.0,
                    r.spf.1,
                    r.header_from.0,
                    r.header_from.1,
                    r.envelope_from.0,
                    r.envelope_from.1,
                    r.envelope_to.0,
                    r.envelope_to.1,
                    r.header_from_org,
                    r.n_dkim,
                    r.n_spf,
                    r.alignment.is_dkim_pass,
                    r.alignment.is_spf_pass,
                    r.alignment.is_dkim_aligned_relaxed,
                    r.alignment.is_dkim_aligned_strict,
                    r.alignment.is_spf_aligned_relaxed,
                    r.alignment.is_spf_aligned_strict,
                ])?;
            }
            app.flush()?;
        }
        if !self.dkim.is_empty() {
            let mut app = conn.appender("dkim_results")?;
            for a in self.dkim.drain(..) {
                app.append_row(params![
                    a.key, a.record, a.index, a.domain.0, a.domain.1, a.detail, a.result.0,
                    a.result.1, a.human,
                ])?;
            }
            app.flush()?;
        }
        if !self.spf.is_empty() {
            let mut app = conn.appender("spf_results")?;
            for a in self.spf.drain(..) {
                app.append_row(params![
                    a.key,
                    a.record,
                    a.index,
                    a.domain.0,
                    a.domain.1,
                    a.detail,
                    a.scope_raw,
                    a.result.0,
                    a.result.1,
                    a.human,
                ])?;
            }
            app.flush()?;
        }
        if !self.reasons.is_empty() {
            let mut app = conn.appender("override_reasons")?;
            for r in self.reasons.drain(..) {
                app.append_row(params![
                    r.key, r.record, r.index, r.kind.0, r.kind.1, r.comment
                ])?;
            }
            app.flush()?;
        }
        if !self.rejects.is_empty() {
            let mut app = conn.appender("rejects")?;
            for r in self.rejects.drain(..) {
                let o = &r.row.origin;
                app.append_row(params![
                    r.key,
                    r.run_id,
                    now.clone(),
                    r.row.payload_kind,
                    r.row.reason_code,
                    r.row.reason,
                    o.source,
                    o.chain,
                    o.file_name,
                    o.message_id,
                    o.message_subject,
                    o.message_from,
                    r.content.hash,
                    i64::try_from(r.content.n_bytes).unwrap_or(i64::MAX),
                    r.content.raw_gz,
                ])?;
            }
            app.flush()?;
        }
        if !self.others.is_empty() {
            let mut app = conn.appender("other_payloads")?;
            for r in self.others.drain(..) {
                let o = &r.origin;
                app.append_row(params![
                    r.key,
                    r.run_id,
                    now.clone(),
                    r.kind,
                    o.source,
                    o.chain,
                    o.file_name,
                    o.message_id,
                    o.message_subject,
                    o.message_from,
                    r.content.hash,
                    i64::try_from(r.content.n_bytes).unwrap_or(i64::MAX),
                    r.content.raw_gz,
                ])?;
            }
            app.flush()?;
        }
        Ok(())
    }
}
