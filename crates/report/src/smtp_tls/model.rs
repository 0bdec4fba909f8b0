//! What one SMTP TLS report says (RFC 8460), raw values beside normalized ones.

use std::net::IpAddr;

use crate::vocab::{Coded, vocabulary};

/// One report: who sent it, for which period, and a result per policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsReport {
    pub organization_name: Option<String>,
    pub contact_info: Option<String>,
    /// Never empty (a report without one is an error).
    pub report_id: String,
    /// The period, seconds since the epoch, and as written.
    pub begin: i64,
    pub end: i64,
    pub begin_raw: String,
    pub end_raw: String,
    pub policies: Vec<TlsPolicy>,
    pub warnings: Vec<Warning>,
}

/// One `policies[]` entry: the policy the sender applied and how its sessions went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsPolicy {
    pub policy_type: Coded<PolicyType>,
    /// `policy-string` lines (an MTA-STS policy's lines, TLSA records), as written.
    pub policy_strings: Vec<String>,
    /// Lower case, no trailing dot; `policy_domain_raw` as written.
    pub policy_domain: Option<String>,
    pub policy_domain_raw: Option<String>,
    /// `mx-host` (a string or an array) or the older `mx-host-pattern`.
    pub mx_hosts: Vec<String>,
    /// `summary` counts; `None` when absent or not a number (see the warnings).
    pub successful_sessions: Option<u64>,
    pub failed_sessions: Option<u64>,
    pub failure_details: Vec<FailureDetail>,
}

/// One `failure-details[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureDetail {
    pub result_type: Coded<ResultType>,
    pub sending_mta_ip: Option<IpAddr>,
    pub sending_mta_ip_raw: Option<String>,
    pub receiving_mx_hostname: Option<String>,
    pub receiving_mx_hostname_raw: Option<String>,
    pub receiving_mx_helo: Option<String>,
    pub receiving_ip: Option<IpAddr>,
    pub receiving_ip_raw: Option<String>,
    pub failed_sessions: Option<u64>,
    pub additional_information: Option<String>,
    pub failure_reason_code: Option<String>,
}

/// What the parser tolerated, with where (a JSON path such as
/// `policies/0/summary/total-successful-session-count`) and the value it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: WarningCode,
    pub path: String,
    pub raw: Option<String>,
}

vocabulary! {
    /// `policy-type`.
    PolicyType { Sts => "sts", Tlsa => "tlsa", NoPolicyFound => "no-policy-found" }
    aliases { "no_policy_found" => NoPolicyFound, "none" => NoPolicyFound }
}

vocabulary! {
    /// `result-type` (RFC 8460 section 4.3).
    ResultType {
        StarttlsNotSupported => "starttls-not-supported",
        CertificateHostMismatch => "certificate-host-mismatch",
        CertificateExpired => "certificate-expired",
        CertificateNotTrusted => "certificate-not-trusted",
        ValidationFailure => "validation-failure",
        TlsaInvalid => "tlsa-invalid",
        DnssecInvalid => "dnssec-invalid",
        DaneRequired => "dane-required",
        StsPolicyFetchError => "sts-policy-fetch-error",
        StsPolicyInvalid => "sts-policy-invalid",
        StsWebpkiInvalid => "sts-webpki-invalid",
    }
}

vocabulary! {
    /// Codes for what the parser tolerated; stable, stored in the database.
    WarningCode {
        UnknownValue => "unknown_value",
        AliasValue => "alias_value",
        NonCanonicalCase => "non_canonical_case",
        NumberAsString => "number_as_string",
        InvalidNumber => "invalid_number",
        InvalidIp => "invalid_ip",
        EmptyValue => "empty_value",
        MissingSummary => "missing_summary",
        MissingCount => "missing_count",
        MissingPolicyType => "missing_policy_type",
        MissingOrganizationName => "missing_organization_name",
        PolicyStringNotArray => "policy_string_not_array",
        PolicyStringJsonEncoded => "policy_string_json_encoded",
        MxHostPatternName => "mx_host_pattern_name",
        UnknownField => "unknown_field",
        BeginAfterEnd => "begin_after_end",
    }
}
