//! The report model: what one aggregate report says, raw values beside normalized ones.

use std::net::IpAddr;

pub use crate::vocab::Coded;
use crate::vocab::vocabulary;

/// Everything a report says except its records: metadata, published policy, and what the
/// parser learned while reading (namespace, warnings, recovery).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Namespace URI of the root `<feedback>` element, if any
    /// (`urn:ietf:params:xml:ns:dmarc-2.0` marks an RFC 9990 report).
    pub namespace: Option<String>,
    /// Text of `<version>`, if present (`1.0`, `0.1`, `2.0` are all seen).
    pub version: Option<String>,
    pub org_name: Option<String>,
    pub email: Option<String>,
    pub extra_contact_info: Option<String>,
    pub report_id: String,
    /// Start of the reporting period, seconds since the Unix epoch (UTC).
    pub begin: i64,
    /// End of the reporting period, seconds since the Unix epoch (UTC).
    pub end: i64,
    pub begin_raw: String,
    pub end_raw: String,
    /// `<report_metadata/error>` texts in document order.
    pub errors: Vec<String>,
    /// RFC 9990 `<generator>`.
    pub generator: Option<String>,
    pub policy: PolicyPublished,
    /// Number of `<record>` elements handed to the sink.
    pub n_records: u64,
    /// Sum of `<count>` over all records.
    pub n_messages: u64,
    /// The document was not well formed, but was read safely (e.g. an unclosed `<xs:schema>`
    /// wrapper); the warnings say what was repaired.
    pub is_recovered: bool,
    /// What the parser had to tolerate, one entry per (code, path), with an example.
    pub warnings: Vec<Warning>,
}

impl Report {
    /// True when the document uses the RFC 9990 (DMARCbis) namespace.
    pub fn is_dmarcbis(&self) -> bool {
        self.namespace.as_deref() == Some(super::DMARC_2_NAMESPACE)
    }
}

/// `<policy_published>`: the DMARC record the receiver found. Absent tags stay absent; RFC
/// defaults (sp = p, adkim = aspf = r) are applied by consumers, never here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyPublished {
    pub domain: Option<String>,
    pub adkim: Coded<Alignment>,
    pub aspf: Coded<Alignment>,
    pub p: Coded<Policy>,
    pub sp: Coded<Policy>,
    pub np: Coded<Policy>,
    pub pct: Option<u32>,
    pub pct_raw: Option<String>,
    pub fo: Option<String>,
    pub testing: Coded<Testing>,
    pub discovery_method: Coded<DiscoveryMethod>,
}

/// One `<record>`: a source IP and what happened to its messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// `None` when `source_ip_raw` is not an IP address (a warning says so).
    pub source_ip: Option<IpAddr>,
    pub source_ip_raw: String,
    pub count: u64,
    pub disposition: Coded<Disposition>,
    /// The receiver's DMARC verdict for DKIM (`policy_evaluated/dkim`).
    pub dkim_verdict: Coded<Verdict>,
    /// The receiver's DMARC verdict for SPF (`policy_evaluated/spf`).
    pub spf_verdict: Coded<Verdict>,
    pub reasons: Vec<OverrideReason>,
    pub header_from: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Option<String>,
    pub dkim: Vec<DkimResult>,
    pub spf: Vec<SpfResult>,
}

impl Record {
    /// Empties the record for reuse, keeping the vectors' capacity; its texts' buffers go
    /// to `spare` (up to [`SPARE_TEXTS`] of them), for the next records' texts.
    pub(crate) fn clear(&mut self, spare: &mut Vec<String>) {
        self.source_ip = None;
        self.source_ip_raw.clear();
        self.count = 0;
        self.disposition = Coded::default();
        self.dkim_verdict = Coded::default();
        self.spf_verdict = Coded::default();
        let mut keep = |slot: &mut Option<String>| {
            if let Some(mut text) = slot.take().filter(|_| spare.len() < SPARE_TEXTS) {
                text.clear();
                spare.push(text);
            }
        };
        for reason in &mut self.reasons {
            keep(&mut reason.comment);
        }
        keep(&mut self.header_from);
        keep(&mut self.envelope_from);
        keep(&mut self.envelope_to);
        for dkim in &mut self.dkim {
            keep(&mut dkim.domain);
            keep(&mut dkim.selector);
            keep(&mut dkim.human_result);
        }
        for spf in &mut self.spf {
            keep(&mut spf.domain);
            keep(&mut spf.human_result);
        }
        self.reasons.clear();
        self.dkim.clear();
        self.spf.clear();
    }
}

/// Text buffers a parser keeps from one record for the next: a typical record has five or
/// six texts, and reusing their buffers saves allocating and freeing each.
pub(crate) const SPARE_TEXTS: usize = 32;

/// `<policy_evaluated/reason>`: why the receiver applied another disposition than the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverrideReason {
    pub kind: Coded<OverrideType>,
    pub comment: Option<String>,
}

/// `<auth_results/dkim>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DkimResult {
    pub domain: Option<String>,
    pub selector: Option<String>,
    pub result: Coded<AuthResult>,
    pub human_result: Option<String>,
}

impl DkimResult {
    /// `<dkim><domain/><result/></dkim>` (GoSecure sends a dozen per record).
    pub fn is_empty(&self) -> bool {
        self.domain.is_none()
            && self.selector.is_none()
            && self.result.raw.is_none()
            && self.human_result.is_none()
    }
}

/// `<auth_results/spf>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfResult {
    pub domain: Option<String>,
    pub scope: Coded<SpfScope>,
    pub result: Coded<AuthResult>,
    pub human_result: Option<String>,
}

impl SpfResult {
    pub fn is_empty(&self) -> bool {
        self.domain.is_none()
            && self.scope.raw.is_none()
            && self.result.raw.is_none()
            && self.human_result.is_none()
    }
}

/// Something the parser tolerated. Repeats of the same code at the same path are counted in
/// `count`; `raw` and `offset` are those of the first occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: WarningCode,
    /// Element path, e.g. `feedback/record/auth_results/spf/result`.
    pub path: String,
    pub raw: Option<String>,
    /// Byte offset in the document of the first occurrence.
    pub offset: u64,
    pub count: u64,
}

vocabulary! {
    /// Codes for what the parser tolerated; stable, stored in the database.
    WarningCode {
        UnknownValue => "unknown_value",
        AliasValue => "alias_value",
        NonCanonicalCase => "non_canonical_case",
        InvalidIp => "invalid_ip",
        InvalidNumber => "invalid_number",
        FractionalTimestamp => "fractional_timestamp",
        MillisecondTimestamp => "millisecond_timestamp",
        BeginAfterEnd => "begin_after_end",
        UnknownElement => "unknown_element",
        RepeatedElement => "repeated_element",
        RepeatedPolicyPublished => "repeated_policy_published",
        IdentitiesAlias => "identities_alias",
        EmptyAuthResult => "empty_auth_result",
        UnexpectedText => "unexpected_text",
        UnknownEntity => "unknown_entity",
        InvalidUtf8 => "invalid_utf8",
        SchemaWrapper => "schema_wrapper",
        UnclosedElement => "unclosed_element",
        MissingOrgName => "missing_org_name",
        MissingPolicyDomain => "missing_policy_domain",
        MissingHeaderFrom => "missing_header_from",
        DoctypeIgnored => "doctype_ignored",
    }
}

vocabulary! {
    /// `p`, `sp`, `np`.
    Policy { None => "none", Quarantine => "quarantine", Reject => "reject" }
}

vocabulary! {
    /// `policy_evaluated/disposition`; RFC 9990 adds `pass`.
    Disposition { None => "none", Pass => "pass", Quarantine => "quarantine", Reject => "reject" }
}

vocabulary! {
    /// `adkim`, `aspf`.
    Alignment { Relaxed => "r", Strict => "s" }
    aliases { "relaxed" => Relaxed, "strict" => Strict }
}

vocabulary! {
    /// `policy_evaluated/dkim` and `/spf`: the receiver's DMARC-level verdict. Anything else
    /// a receiver writes there (none, softfail, ...) did not pass DMARC for that mechanism.
    Verdict { Pass => "pass", Fail => "fail" }
    aliases {
        "none" => Fail,
        "softfail" => Fail,
        "hardfail" => Fail,
        "neutral" => Fail,
        "temperror" => Fail,
        "permerror" => Fail,
        "policy" => Fail,
    }
}

vocabulary! {
    /// DKIM and SPF results (RFC 8601 words).
    AuthResult {
        None => "none",
        Pass => "pass",
        Fail => "fail",
        SoftFail => "softfail",
        Neutral => "neutral",
        Policy => "policy",
        TempError => "temperror",
        PermError => "permerror",
    }
    // The RFC 7489 XSD notes "TempError commonly implemented as 'unknown'" and "PermError
    // commonly implemented as 'error'"; docomo writes `hardfail`, nfm.net DKIM `invalid`.
    aliases {
        "hardfail" => Fail,
        "unknown" => TempError,
        "error" => PermError,
        "invalid" => PermError,
        "temp_error" => TempError,
        "perm_error" => PermError,
    }
}

vocabulary! {
    /// `auth_results/spf/scope`.
    SpfScope { Helo => "helo", Mfrom => "mfrom" }
    aliases { "mail_from" => Mfrom, "mailfrom" => Mfrom }
}

vocabulary! {
    /// `reason/type`; `forwarded` and `sampled_out` are RFC 7489 only, `policy_test_mode`
    /// RFC 9990 only.
    OverrideType {
        Forwarded => "forwarded",
        SampledOut => "sampled_out",
        TrustedForwarder => "trusted_forwarder",
        MailingList => "mailing_list",
        LocalPolicy => "local_policy",
        PolicyTestMode => "policy_test_mode",
        Other => "other",
    }
}

vocabulary! {
    /// RFC 9990 `testing` (the `t=` tag).
    Testing { No => "n", Yes => "y" }
    aliases { "no" => No, "yes" => Yes }
}

vocabulary! {
    /// RFC 9990 `discovery_method`.
    DiscoveryMethod { Psl => "psl", Treewalk => "treewalk" }
}
