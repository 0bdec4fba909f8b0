//! Reading a TLS report from JSON held in memory. The document is parsed by serde_json into a
//! tree first (reports are small; the caller bounds their size), then read field by field so
//! that each real-world quirk is tolerated and recorded where it is, instead of failing a
//! typed deserialization: numbers written as strings, `mx-host` as a string or an array and
//! its older name `mx-host-pattern`, a `policy-string` that is one string or a JSON-encoded
//! array inside a string, upper-case words, trailing dots, empty strings.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::error::{ErrorKind, ParseError};
use super::model::{FailureDetail, TlsPolicy, TlsReport, Warning, WarningCode};
use crate::time::days_from_civil;
use crate::vocab::{Coded, Reading, Vocabulary, read_word};

/// Parses one SMTP TLS report (UTF-8 JSON, a byte order mark allowed).
pub fn parse(bytes: &[u8]) -> Result<TlsReport, ParseError> {
    let bytes = bytes.strip_prefix(crate::lossy::BOM).unwrap_or(bytes);
    let root: Value = serde_json::from_slice(bytes).map_err(|e| ParseError {
        kind: ErrorKind::Json(e.to_string()),
        path: String::new(),
    })?;
    let Value::Object(root) = root else {
        return Err(ParseError::at("", ErrorKind::NotObject));
    };
    let mut reader = Reader::default();
    let report = reader.report(&root)?;
    Ok(TlsReport {
        warnings: reader.warnings,
        ..report
    })
}

/// The fields of the report's root that rua reads; any other is recorded (not an error).
const ROOT_FIELDS: &[&str] = &[
    "organization-name",
    "date-range",
    "contact-info",
    "report-id",
    "policies",
];

#[derive(Default)]
struct Reader {
    warnings: Vec<Warning>,
}

impl Reader {
    fn warn(&mut self, code: WarningCode, path: &str, raw: Option<&str>) {
        self.warnings.push(Warning {
            code,
            path: path.to_owned(),
            raw: raw.map(str::to_owned),
        });
    }

    fn report(&mut self, root: &Map<String, Value>) -> Result<TlsReport, ParseError> {
        for key in root.keys().filter(|k| !ROOT_FIELDS.contains(&k.as_str())) {
            self.warn(WarningCode::UnknownField, key, None);
        }
        let report_id = self
            .text(root, "report-id", "report-id")
            .ok_or_else(|| ParseError::at("report-id", ErrorKind::Missing("report-id")))?;
        let range = match root.get("date-range") {
            Some(Value::Object(range)) => range,
            _ => {
                return Err(ParseError::at(
                    "date-range",
                    ErrorKind::Missing("date-range"),
                ));
            }
        };
        let (begin, begin_raw) = self.datetime(range, "date-range/start-datetime")?;
        let (end, end_raw) = self.datetime(range, "date-range/end-datetime")?;
        if begin > end {
            self.warn(WarningCode::BeginAfterEnd, "date-range", Some(&begin_raw));
        }
        let organization_name = self.text(root, "organization-name", "organization-name");
        if organization_name.is_none() {
            self.warn(
                WarningCode::MissingOrganizationName,
                "organization-name",
                None,
            );
        }
        let contact_info = self.text(root, "contact-info", "contact-info");
        let policies = match root.get("policies") {
            Some(Value::Array(policies)) => policies,
            Some(other) => {
                let kind = ErrorKind::NotArray(kind_of(other));
                return Err(ParseError::at("policies", kind));
            }
            None => return Err(ParseError::at("policies", ErrorKind::Missing("policies"))),
        };
        let policies = policies
            .iter()
            .enumerate()
            .map(|(i, p)| self.policy(p, &format!("policies/{i}")))
            .collect::<Result<_, _>>()?;
        Ok(TlsReport {
            organization_name,
            contact_info,
            report_id,
            begin,
            end,
            begin_raw,
            end_raw,
            policies,
            warnings: Vec::new(),
        })
    }

    fn policy(&mut self, value: &Value, path: &str) -> Result<TlsPolicy, ParseError> {
        let Value::Object(entry) = value else {
            return Err(ParseError::at(path, ErrorKind::NotObject));
        };
        let empty = Map::new();
        let policy = match entry.get("policy") {
            Some(Value::Object(policy)) => policy,
            _ => {
                return Err(ParseError::at(
                    &format!("{path}/policy"),
                    ErrorKind::Missing("policy"),
                ));
            }
        };
        let at = |field: &str| format!("{path}/policy/{field}");
        let policy_type = self.coded(policy, "policy-type", &at("policy-type"));
        if policy_type.raw.is_none() {
            self.warn(WarningCode::MissingPolicyType, &at("policy-type"), None);
        }
        let policy_strings = self.policy_strings(policy.get("policy-string"), &at("policy-string"));
        let policy_domain_raw = self.text(policy, "policy-domain", &at("policy-domain"));
        let mx_hosts = match (policy.get("mx-host"), policy.get("mx-host-pattern")) {
            (Some(hosts), _) => self.strings(hosts, &at("mx-host")),
            (None, Some(hosts)) => {
                self.warn(WarningCode::MxHostPatternName, &at("mx-host-pattern"), None);
                self.strings(hosts, &at("mx-host-pattern"))
            }
            (None, None) => Vec::new(),
        };
        let summary = match entry.get("summary") {
            Some(Value::Object(summary)) => summary,
            _ => {
                self.warn(
                    WarningCode::MissingSummary,
                    &format!("{path}/summary"),
                    None,
                );
                &empty
            }
        };
        let successful_sessions = self.count(
            summary,
            "total-successful-session-count",
            &format!("{path}/summary/total-successful-session-count"),
        );
        let failed_sessions = self.count(
            summary,
            "total-failure-session-count",
            &format!("{path}/summary/total-failure-session-count"),
        );
        let details = match entry.get("failure-details") {
            Some(Value::Array(details)) => details.as_slice(),
            _ => &[],
        };
        let failure_details = details
            .iter()
            .enumerate()
            .map(|(i, d)| self.detail(d, &format!("{path}/failure-details/{i}")))
            .collect::<Result<_, _>>()?;
        Ok(TlsPolicy {
            policy_type,
            policy_strings,
            policy_domain: policy_domain_raw.as_deref().map(normalize_host),
            policy_domain_raw,
            mx_hosts,
            successful_sessions,
            failed_sessions,
            failure_details,
        })
    }

    fn detail(&mut self, value: &Value, path: &str) -> Result<FailureDetail, ParseError> {
        let Value::Object(d) = value else {
            return Err(ParseError::at(path, ErrorKind::NotObject));
        };
        let at = |field: &str| format!("{path}/{field}");
        let sending_mta_ip_raw = self.text(d, "sending-mta-ip", &at("sending-mta-ip"));
        let receiving_ip_raw = self.text(d, "receiving-ip", &at("receiving-ip"));
        let receiving_mx_hostname_raw =
            self.text(d, "receiving-mx-hostname", &at("receiving-mx-hostname"));
        Ok(FailureDetail {
            result_type: self.coded(d, "result-type", &at("result-type")),
            sending_mta_ip: self.ip(sending_mta_ip_raw.as_deref(), &at("sending-mta-ip")),
            sending_mta_ip_raw,
            receiving_mx_hostname: receiving_mx_hostname_raw.as_deref().map(normalize_host),
            receiving_mx_hostname_raw,
            receiving_mx_helo: self.text(d, "receiving-mx-helo", &at("receiving-mx-helo")),
            receiving_ip: self.ip(receiving_ip_raw.as_deref(), &at("receiving-ip")),
            receiving_ip_raw,
            failed_sessions: self.count(d, "failed-session-count", &at("failed-session-count")),
            additional_information: self.text(
                d,
                "additional-information",
                &at("additional-information"),
            ),
            failure_reason_code: self.text(d, "failure-reason-code", &at("failure-reason-code")),
        })
    }

    /// A text field, trimmed; an empty one (or `null`) is absent, and an empty one is recorded.
    /// A number or a boolean is read as its text.
    fn text(&mut self, object: &Map<String, Value>, field: &str, path: &str) -> Option<String> {
        let text = match object.get(field)? {
            Value::String(s) => s.trim().to_owned(),
            Value::Null => return None,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                self.warn(WarningCode::UnknownValue, path, Some(&other.to_string()));
                return None;
            }
        };
        if text.is_empty() {
            self.warn(WarningCode::EmptyValue, path, None);
            return None;
        }
        Some(text)
    }

    /// A session count: a number, or a number written as a string (recorded). Absent or
    /// unreadable counts are `None` and recorded.
    fn count(&mut self, object: &Map<String, Value>, field: &str, path: &str) -> Option<u64> {
        match object.get(field) {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) => Some(n),
                None => {
                    self.warn(WarningCode::InvalidNumber, path, Some(&n.to_string()));
                    None
                }
            },
            Some(Value::String(s)) => match s.trim().parse() {
                Ok(n) => {
                    self.warn(WarningCode::NumberAsString, path, Some(s));
                    Some(n)
                }
                Err(_) => {
                    self.warn(WarningCode::InvalidNumber, path, Some(s));
                    None
                }
            },
            Some(other) => {
                self.warn(WarningCode::InvalidNumber, path, Some(&other.to_string()));
                None
            }
            None => {
                self.warn(WarningCode::MissingCount, path, None);
                None
            }
        }
    }

    fn coded<T: Vocabulary>(
        &mut self,
        object: &Map<String, Value>,
        field: &str,
        path: &str,
    ) -> Coded<T> {
        let Some(raw) = self.text(object, field, path) else {
            return Coded::default();
        };
        let (value, warning) = match read_word::<T>(&raw) {
            Reading::Empty => (None, None),
            Reading::Canonical {
                value,
                is_case_folded,
            } => (
                Some(value),
                is_case_folded.then_some(WarningCode::NonCanonicalCase),
            ),
            Reading::Alias(value) => (Some(value), Some(WarningCode::AliasValue)),
            Reading::Unknown => (None, Some(WarningCode::UnknownValue)),
        };
        if let Some(code) = warning {
            self.warn(code, path, Some(&raw));
        }
        let raw = match value {
            Some(v) if v.as_str() == raw => Cow::Borrowed(v.as_str()),
            _ => Cow::Owned(raw),
        };
        Coded {
            raw: Some(raw),
            value,
        }
    }

    /// Strings of a field that should be an array of strings; one string is taken as an
    /// array of one (recorded as such only for `policy-string`, whose RFC form is an array).
    fn strings(&mut self, value: &Value, path: &str) -> Vec<String> {
        match value {
            Value::Array(items) => items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Value::String(s) if s.trim().is_empty() => Vec::new(),
            Value::String(s) => vec![s.trim().to_owned()],
            Value::Null => Vec::new(),
            other => {
                self.warn(WarningCode::UnknownValue, path, Some(&other.to_string()));
                Vec::new()
            }
        }
    }

    /// `policy-string`: the lines of the policy. Microsoft writes a TLSA policy's records as
    /// one string holding a JSON array; those are read as the records (recorded).
    fn policy_strings(&mut self, value: Option<&Value>, path: &str) -> Vec<String> {
        let Some(value) = value else {
            return Vec::new();
        };
        if let Value::String(s) = value {
            self.warn(WarningCode::PolicyStringNotArray, path, Some(s));
        }
        let strings = self.strings(value, path);
        if let [one] = strings.as_slice()
            && one.starts_with('[')
            && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(one)
            && items.iter().all(Value::is_string)
        {
            self.warn(WarningCode::PolicyStringJsonEncoded, path, Some(one));
            return items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .collect();
        }
        strings
    }

    fn ip(&mut self, raw: Option<&str>, path: &str) -> Option<std::net::IpAddr> {
        let raw = raw?;
        let ip = raw
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok();
        if ip.is_none() {
            self.warn(WarningCode::InvalidIp, path, Some(raw));
        }
        ip
    }

    /// A `date-range` bound: RFC 3339, read to seconds since the epoch.
    fn datetime(
        &mut self,
        range: &Map<String, Value>,
        path: &str,
    ) -> Result<(i64, String), ParseError> {
        let field = path.rsplit('/').next().unwrap_or(path);
        let raw = self
            .text(range, field, path)
            .ok_or_else(|| ParseError::at(path, ErrorKind::Missing("date-range")))?;
        match rfc3339_seconds(&raw) {
            Some(seconds) => Ok((seconds, raw)),
            None => Err(ParseError::at(path, ErrorKind::InvalidValue { raw })),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A host or domain name as compared: lower case, without a trailing dot.
fn normalize_host(raw: &str) -> String {
    raw.trim_end_matches('.').to_ascii_lowercase()
}

/// Seconds since the epoch of an RFC 3339 date-time (`2024-06-01T00:00:00Z`, an offset such
/// as `+02:00`, a fraction of a second, a space or lower-case `t` for the `T`); a date alone
/// is its midnight UTC. Fractions are dropped.
pub(crate) fn rfc3339_seconds(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let date = raw.get(..10)?;
    let rest = raw.get(10..)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if rest.is_empty() {
        return Some(days * 86_400);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let time = rest.get(..8)?;
    let mut hms = time.split(':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let second: i64 = hms.next()?.parse().ok()?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut zone = rest.get(8..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone.get(1..)?.split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp_tls::PolicyType;

    #[test]
    fn rfc3339_date_times_are_read_to_seconds() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2024-06-01T00:00:00Z"), Some(1_717_200_000));
        assert_eq!(
            rfc3339_seconds("2024-06-01T02:00:00+02:00"),
            Some(1_717_200_000)
        );
        assert_eq!(
            rfc3339_seconds("2024-05-31T19:00:00-05:00"),
            Some(1_717_200_000)
        );
        assert_eq!(
            rfc3339_seconds("2024-06-01T00:00:00.123Z"),
            Some(1_717_200_000)
        );
        assert_eq!(rfc3339_seconds("2024-06-01 00:00:00Z"), Some(1_717_200_000));
        assert_eq!(rfc3339_seconds("2024-06-01"), Some(1_717_200_000));
        assert_eq!(rfc3339_seconds("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-06-01T25:00:00Z",
            "June 1",
            "2024-06-01T00:00",
        ] {
            assert_eq!(rfc3339_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_lenient_reporters_quirks_are_read_and_recorded() {
        let doc = br#"{
          "organization-name": "Quirky",
          "date-range": { "start-datetime": "2026-08-02T00:00:00+00:00", "end-datetime": "2026-08-02T23:59:59+00:00" },
          "report-id": "q-1",
          "policies": [
            { "policy": { "policy-type": "STS", "policy-string": "version: STSv1", "policy-domain": "Acme.Example.",
                          "mx-host-pattern": ["*.acme.example"] },
              "summary": { "total-successful-session-count": "42", "total-failure-session-count": "7" },
              "failure-details": [
                { "result-type": "quantum-flux", "sending-mta-ip": "192.0.2.1", "failed-session-count": "5" },
                { "result-type": "certificate-expired", "receiving-mx-hostname": "MX1.Acme.Example.", "receiving-ip": "" }
              ] },
            { "policy": { "policy-type": "tlsa", "policy-string": ["[\"3 1 1 AB\",\"3 1 1 CD\"]"] } }
          ]
        }"#;
        let report = parse(doc).expect("parses");
        assert_eq!(report.begin, 1_785_628_800);
        let [sts, tlsa] = &report.policies[..] else {
            panic!("two policies");
        };
        assert_eq!(sts.policy_type.value, Some(PolicyType::Sts));
        assert_eq!(sts.policy_type.raw.as_deref(), Some("STS"));
        assert_eq!(sts.policy_domain.as_deref(), Some("acme.example"));
        assert_eq!(sts.policy_domain_raw.as_deref(), Some("Acme.Example."));
        assert_eq!(sts.policy_strings, ["version: STSv1"]);
        assert_eq!(sts.mx_hosts, ["*.acme.example"]);
        assert_eq!(
            (sts.successful_sessions, sts.failed_sessions),
            (Some(42), Some(7))
        );
        let [odd, expired] = &sts.failure_details[..] else {
            panic!("two details");
        };
        assert_eq!(odd.result_type.value, None);
        assert_eq!(odd.result_type.raw.as_deref(), Some("quantum-flux"));
        assert_eq!(odd.failed_sessions, Some(5));
        assert_eq!(
            expired.receiving_mx_hostname.as_deref(),
            Some("mx1.acme.example")
        );
        assert_eq!(expired.receiving_ip_raw, None);
        assert_eq!(expired.failed_sessions, None);
        assert_eq!(tlsa.policy_strings, ["3 1 1 AB", "3 1 1 CD"]);
        assert_eq!(tlsa.successful_sessions, None);
        let codes: Vec<&str> = report.warnings.iter().map(|w| w.code.as_str()).collect();
        for code in [
            "non_canonical_case",
            "policy_string_not_array",
            "mx_host_pattern_name",
            "number_as_string",
            "unknown_value",
            "empty_value",
            "missing_count",
            "policy_string_json_encoded",
            "missing_summary",
        ] {
            assert!(codes.contains(&code), "no {code} in {codes:?}");
        }
    }

    #[test]
    fn what_makes_a_report_unusable_is_an_error_that_says_where() {
        let fails = |doc: &str| parse(doc.as_bytes()).expect_err("fails").to_string();
        assert!(fails(r#"{"organization-name": "x", "#).starts_with("not JSON"));
        assert!(fails("[]").contains("not an object"));
        let no_id = r#"{"date-range": {"start-datetime": "2024-06-01T00:00:00Z",
            "end-datetime": "2024-06-01T23:59:59Z"}, "policies": []}"#;
        assert!(
            fails(no_id).contains("missing report-id"),
            "{}",
            fails(no_id)
        );
        let bad_date = r#"{"report-id": "r", "date-range": {"start-datetime": "yesterday",
            "end-datetime": "2024-06-01T23:59:59Z"}, "policies": []}"#;
        assert!(
            fails(bad_date).contains("at date-range/start-datetime"),
            "{}",
            fails(bad_date)
        );
        let no_policies = r#"{"report-id": "r", "date-range": {"start-datetime": "2024-06-01T00:00:00Z",
            "end-datetime": "2024-06-01T23:59:59Z"}}"#;
        assert!(fails(no_policies).contains("missing policies"));
    }
}
