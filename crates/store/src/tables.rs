//! The tables an ingest writes, each declared once: its columns by name and kind, side by side
//! with the value each takes. [`Rows`] buffers them column by column and appends each table's
//! rows with an `INSERT` that names its columns, so no value depends on a column's position,
//! and a test compares every declaration with the schema's `information_schema.columns`.
//!
//! To add a column: a migration in `sql/migrations` (which appends it to the table), then the
//! column at the end of its table below.

use std::borrow::Cow;
use std::sync::LazyLock;

use duckdb::vtab::arrow::ArrowBatchRegistration;
use rua_align::normalize as normalize_domain;
use rua_report::aggregate::{DkimResult, OverrideReason, Record, Report, SpfResult, Warning};
use rua_report::failure::FailureReport;
use rua_report::smtp_tls::{FailureDetail, TlsPolicy, TlsReport, Warning as TlsWarning};
use rua_report::{Coded, Vocabulary};

use crate::columns::{Columns, Kind};
use crate::{Content, Origin, RejectRow};

/// A table rua appends to: its name and its columns (name, kind) in the table's order.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, Kind)],
}

/// The kind of column each [`crate::columns::Row`] method fills.
macro_rules! kind {
    (text) => {
        Kind::Text
    };
    (display) => {
        Kind::Text
    };
    (blob) => {
        Kind::Blob
    };
    (int64) => {
        Kind::Int64
    };
    (int32) => {
        Kind::Int32
    };
    (bool) => {
        Kind::Bool
    };
    (seconds) => {
        Kind::Timestamp
    };
    (micros) => {
        Kind::Timestamp
    };
    (seconds_or_null) => {
        Kind::Timestamp
    };
}

/// Declares a table ([`Table`] named `$table`) and the function that pushes one row of it:
/// each column is named beside the `Row` method that fills it and the value it takes.
macro_rules! table {
    (
        $(#[$doc:meta])*
        $table:ident = $name:literal,
        fn $push:ident($($arg:ident: $ty:ty),* $(,)?) {
            $($column:ident: $method:ident($value:expr)),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        pub(crate) const $table: Table = Table {
            name: $name,
            columns: &[$((stringify!($column), kind!($method))),+],
        };

        fn $push(columns: &mut Columns, $($arg: $ty),*) {
            columns.row()$(.$method($value))+;
        }
    };
}

/// A finished report's own values, for its `reports` row.
pub(crate) struct ReportRow<'a> {
    pub(crate) key: i64,
    pub(crate) run_id: i64,
    pub(crate) now: i64,
    pub(crate) report: &'a Report,
    pub(crate) domain: Option<&'a str>,
    pub(crate) content_hash: &'a str,
    pub(crate) payload_hash: &'a str,
    pub(crate) n_bytes: u64,
    pub(crate) raw: Option<&'a [u8]>,
    pub(crate) conflict_of: Option<i64>,
    pub(crate) origin: &'a Origin,
}

table! {
    REPORTS = "reports",
    fn push_report(f: &ReportRow<'_>) {
        report_key: int64(Some(f.key)),
        ingest_run_id: int64(Some(f.run_id)),
        ingested_at: micros(f.now),
        org_name: text(f.report.org_name.as_deref()),
        org_email: text(f.report.email.as_deref()),
        extra_contact_info: text(f.report.extra_contact_info.as_deref()),
        report_id: text(Some(&f.report.report_id)),
        begin_at: seconds(f.report.begin),
        end_at: seconds(f.report.end),
        begin_raw: text(Some(&f.report.begin_raw)),
        end_raw: text(Some(&f.report.end_raw)),
        generator: text(f.report.generator.as_deref()),
        policy_domain: text(f.domain),
        policy_domain_raw: text(f.report.policy.domain.as_deref()),
        policy_adkim: text(f.report.policy.adkim.as_str()),
        policy_adkim_raw: text(f.report.policy.adkim.raw.as_deref()),
        policy_aspf: text(f.report.policy.aspf.as_str()),
        policy_aspf_raw: text(f.report.policy.aspf.raw.as_deref()),
        policy_p: text(f.report.policy.p.as_str()),
        policy_p_raw: text(f.report.policy.p.raw.as_deref()),
        policy_sp: text(f.report.policy.sp.as_str()),
        policy_sp_raw: text(f.report.policy.sp.raw.as_deref()),
        policy_np: text(f.report.policy.np.as_str()),
        policy_np_raw: text(f.report.policy.np.raw.as_deref()),
        policy_pct: int32(f.report.policy.pct.map(|pct| i32::try_from(pct).unwrap_or(i32::MAX))),
        policy_pct_raw: text(f.report.policy.pct_raw.as_deref()),
        policy_fo: text(f.report.policy.fo.as_deref()),
        policy_testing: text(f.report.policy.testing.as_str()),
        policy_testing_raw: text(f.report.policy.testing.raw.as_deref()),
        policy_discovery_method: text(f.report.policy.discovery_method.as_str()),
        policy_discovery_method_raw: text(f.report.policy.discovery_method.raw.as_deref()),
        xml_namespace: text(f.report.namespace.as_deref()),
        xml_version: text(f.report.version.as_deref()),
        is_dmarcbis: bool(f.report.is_dmarcbis()),
        is_recovered: bool(f.report.is_recovered),
        n_records: int64(n64(f.report.n_records)),
        n_messages: int64(n64(f.report.n_messages)),
        content_hash: text(Some(f.content_hash)),
        payload_bytes: int64(n64(f.n_bytes)),
        conflict_of: int64(f.conflict_of),
        source: text(Some(&f.origin.source)),
        source_chain: text(Some(&f.origin.chain)),
        file_name: text(f.origin.file_name.as_deref()),
        message_id: text(f.origin.message_id.as_deref()),
        message_subject: text(f.origin.message_subject.as_deref()),
        message_from: text(f.origin.message_from.as_deref()),
        message_date: text(f.origin.message_date.as_deref()),
        raw_payload_gz: blob(f.raw),
        payload_hash: text(Some(f.payload_hash)),
    }
}

table! {
    REPORT_ERRORS = "report_errors",
    fn push_error(key: i64, index: usize, message: &str) {
        report_key: int64(Some(key)),
        error_index: int32(Some(i32_of(index))),
        message: text(Some(message)),
    }
}

table! {
    REPORT_WARNINGS = "report_warnings",
    fn push_warning(key: i64, w: &Warning) {
        report_key: int64(Some(key)),
        code: text(Some(w.code.as_str())),
        element_path: text(Some(&w.path)),
        raw_value: text(w.raw.as_deref()),
        occurrences: int64(n64(w.count)),
        first_byte_offset: int64(n64(w.offset)),
    }
}

/// A record's values that rua derives (normalized domains, alignment), computed once.
struct Derived<'r> {
    header_from: Option<Cow<'r, str>>,
    envelope_from: Option<Cow<'r, str>>,
    envelope_to: Option<Cow<'r, str>>,
    alignment: rua_align::Alignment,
    dkim_signer: Option<Cow<'r, str>>,
}

impl<'r> Derived<'r> {
    fn of(r: &'r Record) -> Derived<'r> {
        Derived {
            header_from: r.header_from.as_deref().map(normalize_domain),
            envelope_from: r.envelope_from.as_deref().map(normalize_domain),
            envelope_to: r.envelope_to.as_deref().map(normalize_domain),
            alignment: rua_align::evaluate(r),
            dkim_signer: rua_align::dkim_signer(r),
        }
    }
}

table! {
    RECORDS = "records",
    fn push_record_row(key: i64, index: i32, r: &Record, d: &Derived<'_>) {
        report_key: int64(Some(key)),
        record_index: int32(Some(index)),
        source_ip: display(r.source_ip),
        source_network: display(r.source_ip.map(Network)),
        message_count: int64(n64(r.count)),
        disposition: text(r.disposition.as_str()),
        dkim_verdict: text(r.dkim_verdict.as_str()),
        spf_verdict: text(r.spf_verdict.as_str()),
        header_from: text(d.header_from.as_deref()),
        envelope_from: text(d.envelope_from.as_deref()),
        envelope_to: text(d.envelope_to.as_deref()),
        header_from_org: text(d.header_from.as_deref().map(rua_align::organizational_domain)),
        n_dkim_results: int32(Some(i32_of(r.dkim.len()))),
        n_spf_results: int32(Some(i32_of(r.spf.len()))),
        dkim_passed: bool(d.alignment.is_dkim_pass),
        spf_passed: bool(d.alignment.is_spf_pass),
        dkim_aligned_relaxed: bool(d.alignment.is_dkim_aligned_relaxed),
        dkim_aligned_strict: bool(d.alignment.is_dkim_aligned_strict),
        spf_aligned_relaxed: bool(d.alignment.is_spf_aligned_relaxed),
        spf_aligned_strict: bool(d.alignment.is_spf_aligned_strict),
        dkim_signer: text(d.dkim_signer.as_deref()),
        source_ip_raw_if_different: text(ip_raw_if_different(&r.source_ip_raw, r.source_ip)),
        disposition_raw_if_different: text(coded_raw_if_different(&r.disposition)),
        dkim_verdict_raw_if_different: text(coded_raw_if_different(&r.dkim_verdict)),
        spf_verdict_raw_if_different: text(coded_raw_if_different(&r.spf_verdict)),
        header_from_raw_if_different: text(raw_if_different(r.header_from.as_deref(), d.header_from.as_deref())),
        envelope_from_raw_if_different: text(raw_if_different(r.envelope_from.as_deref(), d.envelope_from.as_deref())),
        envelope_to_raw_if_different: text(raw_if_different(r.envelope_to.as_deref(), d.envelope_to.as_deref())),
    }
}

table! {
    DKIM_RESULTS = "dkim_results",
    fn push_dkim(key: i64, record: i32, i: usize, d: &DkimResult, domain: Option<Cow<'_, str>>) {
        report_key: int64(Some(key)),
        record_index: int32(Some(record)),
        result_index: int32(Some(i32_of(i))),
        domain: text(domain.as_deref()),
        selector: text(d.selector.as_deref()),
        result: text(d.result.as_str()),
        human_result: text(d.human_result.as_deref()),
        domain_raw_if_different: text(raw_if_different(d.domain.as_deref(), domain.as_deref())),
        result_raw_if_different: text(coded_raw_if_different(&d.result)),
    }
}

table! {
    SPF_RESULTS = "spf_results",
    fn push_spf(key: i64, record: i32, i: usize, f: &SpfResult, domain: Option<Cow<'_, str>>) {
        report_key: int64(Some(key)),
        record_index: int32(Some(record)),
        result_index: int32(Some(i32_of(i))),
        domain: text(domain.as_deref()),
        scope: text(f.scope.as_str()),
        result: text(f.result.as_str()),
        human_result: text(f.human_result.as_deref()),
        domain_raw_if_different: text(raw_if_different(f.domain.as_deref(), domain.as_deref())),
        scope_raw_if_different: text(coded_raw_if_different(&f.scope)),
        result_raw_if_different: text(coded_raw_if_different(&f.result)),
    }
}

table! {
    OVERRIDE_REASONS = "override_reasons",
    fn push_reason(key: i64, record: i32, i: usize, reason: &OverrideReason) {
        report_key: int64(Some(key)),
        record_index: int32(Some(record)),
        reason_index: int32(Some(i32_of(i))),
        reason_type: text(reason.kind.as_str()),
        comment: text(reason.comment.as_deref()),
        reason_type_raw_if_different: text(coded_raw_if_different(&reason.kind)),
    }
}

table! {
    REJECTS = "rejects",
    fn push_reject_row(key: i64, run_id: i64, now: i64, row: &RejectRow, content: &Content) {
        reject_key: int64(Some(key)),
        ingest_run_id: int64(Some(run_id)),
        rejected_at: micros(now),
        payload_kind: text(Some(&row.payload_kind)),
        reason_code: text(Some(&row.reason_code)),
        reason: text(Some(&row.reason)),
        source: text(Some(&row.origin.source)),
        source_chain: text(Some(&row.origin.chain)),
        file_name: text(row.origin.file_name.as_deref()),
        message_id: text(row.origin.message_id.as_deref()),
        message_subject: text(row.origin.message_subject.as_deref()),
        message_from: text(row.origin.message_from.as_deref()),
        payload_hash: text(Some(&content.hash.hex())),
        payload_bytes: int64(n64(content.n_bytes)),
        raw_gz: blob(content.raw_gz.as_deref()),
    }
}

/// A stored SMTP TLS report's own values, for its `tls_reports` row.
pub(crate) struct TlsReportRow<'a> {
    pub(crate) key: i64,
    pub(crate) run_id: i64,
    pub(crate) now: i64,
    pub(crate) report: &'a TlsReport,
    pub(crate) content_hash: &'a str,
    pub(crate) payload_hash: &'a str,
    pub(crate) n_bytes: u64,
    pub(crate) raw: Option<&'a [u8]>,
    pub(crate) conflict_of: Option<i64>,
    pub(crate) origin: &'a Origin,
}

table! {
    TLS_REPORTS = "tls_reports",
    fn push_tls_report_row(f: &TlsReportRow<'_>) {
        report_key: int64(Some(f.key)),
        ingest_run_id: int64(Some(f.run_id)),
        ingested_at: micros(f.now),
        organization_name: text(f.report.organization_name.as_deref()),
        contact_info: text(f.report.contact_info.as_deref()),
        report_id: text(Some(&f.report.report_id)),
        begin_at: seconds(f.report.begin),
        end_at: seconds(f.report.end),
        begin_raw: text(Some(&f.report.begin_raw)),
        end_raw: text(Some(&f.report.end_raw)),
        n_policies: int32(Some(i32_of(f.report.policies.len()))),
        content_hash: text(Some(f.content_hash)),
        payload_hash: text(Some(f.payload_hash)),
        payload_bytes: int64(n64(f.n_bytes)),
        conflict_of: int64(f.conflict_of),
        source: text(Some(&f.origin.source)),
        source_chain: text(Some(&f.origin.chain)),
        file_name: text(f.origin.file_name.as_deref()),
        message_id: text(f.origin.message_id.as_deref()),
        message_subject: text(f.origin.message_subject.as_deref()),
        message_from: text(f.origin.message_from.as_deref()),
        message_date: text(f.origin.message_date.as_deref()),
        raw_gz: blob(f.raw),
    }
}

table! {
    TLS_POLICIES = "tls_policies",
    fn push_tls_policy(key: i64, index: usize, p: &TlsPolicy) {
        report_key: int64(Some(key)),
        policy_index: int32(Some(i32_of(index))),
        policy_type: text(p.policy_type.as_str()),
        policy_type_raw: text(p.policy_type.raw.as_deref()),
        policy_domain: text(p.policy_domain.as_deref()),
        policy_domain_raw: text(p.policy_domain_raw.as_deref()),
        policy_strings: text(lines(&p.policy_strings).as_deref()),
        mx_hosts: text(lines(&p.mx_hosts).as_deref()),
        successful_sessions: int64(p.successful_sessions.and_then(n64)),
        failed_sessions: int64(p.failed_sessions.and_then(n64)),
    }
}

table! {
    TLS_FAILURE_DETAILS = "tls_failure_details",
    fn push_tls_failure(key: i64, policy: usize, index: usize, d: &FailureDetail) {
        report_key: int64(Some(key)),
        policy_index: int32(Some(i32_of(policy))),
        detail_index: int32(Some(i32_of(index))),
        result_type: text(d.result_type.as_str()),
        result_type_raw: text(d.result_type.raw.as_deref()),
        sending_mta_ip: display(d.sending_mta_ip),
        sending_mta_ip_raw: text(d.sending_mta_ip_raw.as_deref()),
        receiving_mx_hostname: text(d.receiving_mx_hostname.as_deref()),
        receiving_mx_hostname_raw: text(d.receiving_mx_hostname_raw.as_deref()),
        receiving_mx_helo: text(d.receiving_mx_helo.as_deref()),
        receiving_ip: display(d.receiving_ip),
        receiving_ip_raw: text(d.receiving_ip_raw.as_deref()),
        failed_sessions: int64(d.failed_sessions.and_then(n64)),
        additional_information: text(d.additional_information.as_deref()),
        failure_reason_code: text(d.failure_reason_code.as_deref()),
    }
}

table! {
    TLS_REPORT_WARNINGS = "tls_report_warnings",
    fn push_tls_warning(key: i64, w: &TlsWarning) {
        report_key: int64(Some(key)),
        code: text(Some(w.code.as_str())),
        json_path: text(Some(&w.path)),
        raw_value: text(w.raw.as_deref()),
    }
}

/// A stored failure report's values, for its `failure_reports` row.
pub(crate) struct FailureReportRow<'a> {
    pub(crate) key: i64,
    pub(crate) run_id: i64,
    pub(crate) now: i64,
    pub(crate) report: &'a FailureReport,
    pub(crate) content_hash: &'a str,
    pub(crate) payload_hash: &'a str,
    pub(crate) n_bytes: u64,
    pub(crate) original_body_gz: Option<&'a [u8]>,
    pub(crate) raw: Option<&'a [u8]>,
    pub(crate) origin: &'a Origin,
}

table! {
    FAILURE_REPORTS = "failure_reports",
    fn push_failure_report_row(f: &FailureReportRow<'_>) {
        report_key: int64(Some(f.key)),
        ingest_run_id: int64(Some(f.run_id)),
        ingested_at: micros(f.now),
        feedback_type: text(f.report.feedback_type.as_deref()),
        user_agent: text(f.report.user_agent.as_deref()),
        version: text(f.report.version.as_deref()),
        original_envelope_id: text(f.report.original_envelope_id.as_deref()),
        original_mail_from: text(f.report.original_mail_from.as_deref()),
        original_rcpt_to: text(f.report.original_rcpt_to.as_deref()),
        arrival_date: seconds_or_null(f.report.arrival_date),
        arrival_date_raw: text(f.report.arrival_date_raw.as_deref()),
        reporting_mta: text(f.report.reporting_mta.as_deref()),
        source_ip: display(f.report.source_ip),
        source_ip_raw: text(f.report.source_ip_raw.as_deref()),
        incidents: text(f.report.incidents.as_deref()),
        authentication_results: text(f.report.authentication_results.as_deref()),
        auth_failure: text(f.report.auth_failure.as_deref()),
        delivery_result: text(f.report.delivery_result.as_deref()),
        dkim_domain: text(f.report.dkim_domain.as_deref()),
        dkim_identity: text(f.report.dkim_identity.as_deref()),
        dkim_selector: text(f.report.dkim_selector.as_deref()),
        spf_dns: text(f.report.spf_dns.as_deref()),
        identity_alignment: text(f.report.identity_alignment.as_deref()),
        reported_domain: text(f.report.reported_domain.as_deref()),
        reported_uri: text(f.report.reported_uri.as_deref()),
        feedback_report_raw: text(Some(&f.report.feedback_report_raw)),
        original_from: text(f.report.original_from.as_deref()),
        original_to: text(f.report.original_to.as_deref()),
        original_subject: text(f.report.original_subject.as_deref()),
        original_date: text(f.report.original_date.as_deref()),
        original_message_id: text(f.report.original_message_id.as_deref()),
        original_headers: text(f.report.original_headers.as_deref()),
        content_hash: text(Some(f.content_hash)),
        payload_hash: text(Some(f.payload_hash)),
        payload_bytes: int64(n64(f.n_bytes)),
        source: text(Some(&f.origin.source)),
        source_chain: text(Some(&f.origin.chain)),
        file_name: text(f.origin.file_name.as_deref()),
        message_id: text(f.origin.message_id.as_deref()),
        message_subject: text(f.origin.message_subject.as_deref()),
        message_from: text(f.origin.message_from.as_deref()),
        message_date: text(f.origin.message_date.as_deref()),
        original_body_gz: blob(f.original_body_gz),
        raw_gz: blob(f.raw),
    }
}

/// The reporter's text where it is not the normalized value, else None: the table's
/// generated `*_raw` column shows `*_raw_if_different`, else the normalized value
/// (migration 0011). rua derives each normalized value from the raw one, so a normalized
/// value never stands without its raw text (which this could not keep).
fn raw_if_different<'a>(raw: Option<&'a str>, normalized: Option<&str>) -> Option<&'a str> {
    debug_assert!(
        raw.is_some() || normalized.is_none(),
        "a normalized value without raw text"
    );
    raw.filter(|raw| Some(*raw) != normalized)
}

/// [`raw_if_different`] for an enumerated value (`Pass` is kept, `pass` is not).
fn coded_raw_if_different<T: Vocabulary>(coded: &Coded<T>) -> Option<&str> {
    raw_if_different(coded.raw.as_deref(), coded.as_str())
}

/// [`raw_if_different`] for a source address: the reporter's text unless it is the address's
/// canonical text (what `source_ip` holds), formatted on the stack.
fn ip_raw_if_different(raw: &str, ip: Option<std::net::IpAddr>) -> Option<&str> {
    let Some(ip) = ip else {
        return Some(raw);
    };
    // Room for the longest address text (an IPv6 address with an embedded IPv4 one).
    let mut text = [0u8; 48];
    let mut cursor = std::io::Cursor::new(&mut text[..]);
    let is_same = std::io::Write::write_fmt(&mut cursor, format_args!("{ip}")).is_ok()
        && cursor.get_ref().get(..cursor.position() as usize) == Some(raw.as_bytes());
    (!is_same).then_some(raw)
}

/// Values one per line, or none when there are none.
fn lines(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join("\n"))
}

/// [`Rows`] with one [`Columns`] per table, and [`TABLES`] in the same order (the order an
/// ingest fills and appends them), from one list.
macro_rules! rows {
    ($($field:ident: $table:ident),+ $(,)?) => {
        /// Rows waiting to be appended, one [`Columns`] per table.
        pub(crate) struct Rows {
            $($field: Columns),+
        }

        /// Every table an ingest appends to.
        pub(crate) const TABLES: [&Table; [$(stringify!($field)),+].len()] = [$(&$table),+];

        impl Rows {
            fn tables(&self) -> [&Columns; TABLES.len()] {
                [$(&self.$field),+]
            }

            fn tables_mut(&mut self) -> [&mut Columns; TABLES.len()] {
                [$(&mut self.$field),+]
            }
        }

        impl Default for Rows {
            fn default() -> Self {
                Rows { $($field: Columns::new($table.columns)),+ }
            }
        }
    };
}

rows! {
    reports: REPORTS,
    report_errors: REPORT_ERRORS,
    report_warnings: REPORT_WARNINGS,
    records: RECORDS,
    dkim_results: DKIM_RESULTS,
    spf_results: SPF_RESULTS,
    override_reasons: OVERRIDE_REASONS,
    rejects: REJECTS,
    tls_reports: TLS_REPORTS,
    tls_policies: TLS_POLICIES,
    tls_failure_details: TLS_FAILURE_DETAILS,
    tls_report_warnings: TLS_REPORT_WARNINGS,
    failure_reports: FAILURE_REPORTS,
}

/// The tables an ingest appends to, in the order it fills them.
pub const INGESTED_TABLES: [&str; TABLES.len()] = {
    let mut names = [""; TABLES.len()];
    let mut i = 0;
    while i < TABLES.len() {
        names[i] = TABLES[i].name;
        i += 1;
    }
    names
};

/// `append_batch.sql` for each of [`TABLES`], in order, its columns named (filled in once).
static APPEND_BATCH: LazyLock<[String; TABLES.len()]> = LazyLock::new(|| {
    TABLES.map(|table| {
        let columns: Vec<&str> = table.columns.iter().map(|&(name, _)| name).collect();
        include_str!("../../../sql/store/append_batch.sql")
            .replace("{table}", table.name)
            .replace("{columns}", &columns.join(", "))
    })
});

fn n64(n: u64) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

fn i32_of(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
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

impl Rows {
    pub(crate) fn len(&self) -> usize {
        self.tables().iter().map(|t| t.len()).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tables().iter().all(|t| t.is_empty())
    }

    /// Bytes of text and blobs held.
    pub(crate) fn bytes_len(&self) -> usize {
        self.tables().iter().map(|t| t.bytes_len()).sum()
    }

    pub(crate) fn records_len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn clear(&mut self) {
        self.tables_mut().into_iter().for_each(Columns::clear);
    }

    /// Empty rows with room for these (see [`Columns::sized_like`]).
    pub(crate) fn sized_like(&self) -> Rows {
        let mut rows = Rows::default();
        for (empty, these) in rows.tables_mut().into_iter().zip(self.tables()) {
            *empty = these.sized_like();
        }
        rows
    }

    pub(crate) fn extend(&mut self, other: &Rows) {
        for (mine, theirs) in self.tables_mut().into_iter().zip(other.tables()) {
            mine.extend(theirs);
        }
    }

    /// A finished report's own rows: `reports`, its errors and its warnings.
    pub(crate) fn push_report(&mut self, f: &ReportRow<'_>) {
        push_report(&mut self.reports, f);
        for (i, e) in f.report.errors.iter().enumerate() {
            push_error(&mut self.report_errors, f.key, i, e);
        }
        for w in &f.report.warnings {
            push_warning(&mut self.report_warnings, f.key, w);
        }
    }

    /// A record's rows: `records`, its DKIM and SPF results and its override reasons.
    pub(crate) fn push_record(&mut self, key: i64, index: i32, r: &Record) {
        push_record_row(&mut self.records, key, index, r, &Derived::of(r));
        for (i, d) in r.dkim.iter().enumerate() {
            let domain = d.domain.as_deref().map(normalize_domain);
            push_dkim(&mut self.dkim_results, key, index, i, d, domain);
        }
        for (i, f) in r.spf.iter().enumerate() {
            let domain = f.domain.as_deref().map(normalize_domain);
            push_spf(&mut self.spf_results, key, index, i, f, domain);
        }
        for (i, reason) in r.reasons.iter().enumerate() {
            push_reason(&mut self.override_reasons, key, index, i, reason);
        }
    }

    pub(crate) fn push_reject(
        &mut self,
        key: i64,
        run_id: i64,
        now: i64,
        row: &RejectRow,
        content: &Content,
    ) {
        push_reject_row(&mut self.rejects, key, run_id, now, row, content);
    }

    /// A stored SMTP TLS report's rows: the report, its policies, their failure details and
    /// its warnings.
    pub(crate) fn push_tls_report(&mut self, f: &TlsReportRow<'_>) {
        push_tls_report_row(&mut self.tls_reports, f);
        for (i, policy) in f.report.policies.iter().enumerate() {
            push_tls_policy(&mut self.tls_policies, f.key, i, policy);
            for (j, detail) in policy.failure_details.iter().enumerate() {
                push_tls_failure(&mut self.tls_failure_details, f.key, i, j, detail);
            }
        }
        for w in &f.report.warnings {
            push_tls_warning(&mut self.tls_report_warnings, f.key, w);
        }
    }

    pub(crate) fn push_failure_report(&mut self, f: &FailureReportRow<'_>) {
        push_failure_report_row(&mut self.failure_reports, f);
    }

    /// Appends every buffered row in the connection's current transaction, then empties.
    ///
    /// Each table's rows go in as one `INSERT ... SELECT` over the Arrow batch: DuckDB then
    /// writes them straight into the table, where its appender would first copy them into a
    /// collection of its own and scan that again.
    pub(crate) fn append(&mut self, conn: &duckdb::Connection) -> duckdb::Result<()> {
        for (columns, sql) in self.tables_mut().into_iter().zip(APPEND_BATCH.iter()) {
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

#[cfg(test)]
mod tests {
    use super::TABLES;

    /// The columns of `records` that `rua enrich` fills after the ingest (sql/migrations/
    /// 0012_stored_classes.sql): the ingest leaves them NULL.
    const CLASSIFIED: &[&str] = &[
        "sender",
        "sender_type",
        "sender_rule",
        "sender_confidence",
        "class_rule",
        "class",
        "class_note",
    ];

    /// Every table's declared columns (names, kinds, order) are the schema's. Together with
    /// the INSERTs naming their columns, a value can only reach the column named beside it.
    #[test]
    fn declared_columns_are_the_schema_s_columns() {
        let dir = std::env::temp_dir().join(format!("rua-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("tables.duckdb");
        let store = crate::Store::open(&db, &crate::OpenOptions::default()).expect("opens");
        for table in TABLES {
            let mut stmt = store
                .conn
                .prepare(include_str!("../../../sql/store/column_types.sql"))
                .expect("prepares");
            let declared: Vec<(String, String)> = stmt
                .query_map([table.name], |r| Ok((r.get(0)?, r.get(1)?)))
                .expect("queries")
                .collect::<Result<Vec<(String, String)>, _>>()
                .expect("reads")
                .into_iter()
                .filter(|(name, _)| table.name != "records" || !CLASSIFIED.contains(&name.as_str()))
                .collect();
            let ours: Vec<(String, String)> = table
                .columns
                .iter()
                .map(|&(name, kind)| (name.to_owned(), kind.sql_name().to_owned()))
                .collect();
            assert_eq!(ours, declared, "columns of {}", table.name);
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        let net = |s: &str| super::Network(s.parse().expect("ip")).to_string();
        assert_eq!(net("192.0.2.77"), "192.0.2.0/24");
        assert_eq!(net("2001:db8:f403:c005::5"), "2001:db8:f403:c005::/64");
        assert_eq!(net("2001:db8::1"), "2001:db8::/64");
    }
}
