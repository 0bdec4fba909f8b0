//! Reading an ARF message (RFC 5965, RFC 6591) with mail-parser.

use std::net::IpAddr;

use mail_parser::{DateTime, Message, MessageParser, MimeHeaders};

/// One failure report: the ARF fields (named as in RFC 5965 and 6591, in snake case; fields
/// that may repeat hold one value per line) and the original message's headers that matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureReport {
    pub feedback_type: Option<String>,
    pub user_agent: Option<String>,
    pub version: Option<String>,
    pub original_envelope_id: Option<String>,
    pub original_mail_from: Option<String>,
    pub original_rcpt_to: Option<String>,
    /// Seconds since the epoch of `Arrival-Date` (`arrival_date_raw` as written).
    pub arrival_date: Option<i64>,
    pub arrival_date_raw: Option<String>,
    pub reporting_mta: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub source_ip_raw: Option<String>,
    pub incidents: Option<String>,
    pub authentication_results: Option<String>,
    pub auth_failure: Option<String>,
    pub delivery_result: Option<String>,
    pub dkim_domain: Option<String>,
    pub dkim_identity: Option<String>,
    pub dkim_selector: Option<String>,
    pub spf_dns: Option<String>,
    pub identity_alignment: Option<String>,
    /// Lower case, no trailing dot, one per line.
    pub reported_domain: Option<String>,
    pub reported_uri: Option<String>,
    /// The `message/feedback-report` part as written (every field, known or not).
    pub feedback_report_raw: String,
    pub original_from: Option<String>,
    pub original_to: Option<String>,
    pub original_subject: Option<String>,
    pub original_date: Option<String>,
    pub original_message_id: Option<String>,
    /// The original message's header block as written (`message/rfc822` or
    /// `text/rfc822-headers`), when the report holds one.
    pub original_headers: Option<String>,
}

/// A report and, apart, the original message's body (when the report holds the whole message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub report: FailureReport,
    pub original_body: Option<Vec<u8>>,
}

/// A message that is not a usable failure report.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a MIME message")]
    NotMessage,
    #[error("no message/feedback-report part")]
    NoFeedbackReport,
    #[error("the feedback report has no Feedback-Type field")]
    NoFeedbackType,
}

impl ParseError {
    /// A stable code for storing and grouping rejects.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::NotMessage => "bad_message",
            ParseError::NoFeedbackReport => "not_arf",
            ParseError::NoFeedbackType => "missing_element",
        }
    }
}

/// Parses one failure report mail.
pub fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let message = std::panic::catch_unwind(|| MessageParser::new().parse(bytes))
        .ok()
        .flatten()
        .ok_or(ParseError::NotMessage)?;
    let feedback = message
        .parts
        .iter()
        .find(|p| p.is_content_type("message", "feedback-report"))
        .ok_or(ParseError::NoFeedbackReport)?;
    let feedback_raw = String::from_utf8_lossy(feedback.contents()).into_owned();
    let fields = fields(&feedback_raw);
    let all = |name: &str| -> Option<String> {
        let values: Vec<&str> = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect();
        (!values.is_empty()).then(|| values.join("\n"))
    };
    let feedback_type = all("Feedback-Type").ok_or(ParseError::NoFeedbackType)?;
    let source_ip_raw = all("Source-IP");
    let arrival_date_raw = all("Arrival-Date").or_else(|| all("Received-Date"));
    let mut report = FailureReport {
        feedback_type: Some(feedback_type.to_ascii_lowercase()),
        user_agent: all("User-Agent"),
        version: all("Version"),
        original_envelope_id: all("Original-Envelope-Id"),
        original_mail_from: all("Original-Mail-From"),
        original_rcpt_to: all("Original-Rcpt-To"),
        arrival_date: arrival_date_raw
            .as_deref()
            .and_then(DateTime::parse_rfc822)
            .map(|d| d.to_timestamp()),
        arrival_date_raw,
        reporting_mta: all("Reporting-MTA"),
        source_ip: source_ip_raw
            .as_deref()
            // Some write the host name after the address: `192.0.2.1 (mx.example.net)`.
            .and_then(|ip| ip.split_whitespace().next())
            .and_then(|ip| ip.trim_matches(['[', ']']).parse().ok()),
        source_ip_raw,
        incidents: all("Incidents"),
        authentication_results: all("Authentication-Results"),
        auth_failure: all("Auth-Failure").map(|v| v.to_ascii_lowercase()),
        delivery_result: all("Delivery-Result").map(|v| v.to_ascii_lowercase()),
        dkim_domain: all("DKIM-Domain").map(|v| normalize_domain(&v)),
        dkim_identity: all("DKIM-Identity"),
        dkim_selector: all("DKIM-Selector"),
        spf_dns: all("SPF-DNS"),
        identity_alignment: all("Identity-Alignment").map(|v| v.to_ascii_lowercase()),
        reported_domain: all("Reported-Domain").map(|v| {
            v.lines()
                .map(normalize_domain)
                .collect::<Vec<_>>()
                .join("\n")
        }),
        reported_uri: all("Reported-URI"),
        feedback_report_raw: feedback_raw.clone(),
        ..FailureReport::default()
    };
    let mut original_body = None;
    if let Some(original) = message.parts.iter().find(|p| {
        p.is_content_type("message", "rfc822") || p.is_content_type("text", "rfc822-headers")
    }) {
        let raw = original.contents();
        let (headers, body) = split_headers(raw);
        report.original_headers = Some(String::from_utf8_lossy(headers).into_owned());
        if !body.is_empty() {
            original_body = Some(body.to_vec());
        }
        if let Some(parsed) = MessageParser::new().parse(headers) {
            original_fields(&mut report, &parsed);
        }
    }
    Ok(Parsed {
        report,
        original_body,
    })
}

/// The original's From, To, Subject, Date and Message-ID.
fn original_fields(report: &mut FailureReport, original: &Message<'_>) {
    let addresses = |list: Option<&mail_parser::Address<'_>>| {
        list.map(|list| {
            list.iter()
                .filter_map(|a| a.address().or_else(|| a.name()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
    };
    report.original_from = addresses(original.from());
    report.original_to = addresses(original.to());
    report.original_subject = original.subject().map(str::to_owned);
    report.original_date = original.date().map(|d| d.to_rfc3339());
    report.original_message_id = original.message_id().map(str::to_owned);
}

/// The header block and the body of a message, split at the first empty line.
fn split_headers(raw: &[u8]) -> (&[u8], &[u8]) {
    for (i, window) in raw.windows(2).enumerate() {
        if window == b"\n\n" {
            return (&raw[..i + 1], &raw[i + 2..]);
        }
        if window == b"\n\r" && raw.get(i + 2) == Some(&b'\n') {
            return (&raw[..i + 1], &raw[i + 3..]);
        }
    }
    (raw, &[])
}

/// `Name: value` fields of a feedback report, folded lines unfolded, values trimmed.
fn fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARF: &str = "From: dmarc@receiver.example\r\nTo: ruf@example.com\r\nSubject: DMARC failure\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nA message failed DMARC.\r\n\
        --b\r\nContent-Type: message/feedback-report\r\n\r\n\
        Feedback-Type: auth-failure\r\nUser-Agent: Receiver/1.0\r\nVersion: 1\r\n\
        Original-Mail-From: <bounce@example.com>\r\nOriginal-Rcpt-To: <a@receiver.example>\r\n\
        Original-Rcpt-To: <b@receiver.example>\r\nArrival-Date: Thu, 28 Nov 2024 10:00:00 +0000\r\n\
        Source-IP: 203.0.113.77\r\nAuth-Failure: DMARC\r\n\
        Authentication-Results: receiver.example; dmarc=fail (p=reject)\r\n  header.from=example.com\r\n\
        Reported-Domain: Example.COM.\r\nDelivery-Result: reject\r\nIdentity-Alignment: none\r\n\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\n\
        From: CEO <ceo@example.com>\r\nTo: victim@receiver.example\r\nSubject: Urgent wire transfer\r\n\
        Date: Thu, 28 Nov 2024 09:59:00 +0000\r\nMessage-ID: <spoof-1@example.com>\r\n\r\n\
        Please wire the money today.\r\n--b--\r\n";

    #[test]
    fn every_arf_field_and_the_original_headers_are_read_and_the_body_kept_apart() {
        let parsed = parse(ARF.as_bytes()).expect("parses");
        let r = &parsed.report;
        assert_eq!(r.feedback_type.as_deref(), Some("auth-failure"));
        assert_eq!(
            r.original_rcpt_to.as_deref(),
            Some("<a@receiver.example>\n<b@receiver.example>")
        );
        assert_eq!(r.arrival_date, Some(1_732_788_000));
        assert_eq!(r.source_ip, Some("203.0.113.77".parse().expect("ip")));
        assert_eq!(r.auth_failure.as_deref(), Some("dmarc"));
        assert_eq!(
            r.authentication_results.as_deref(),
            Some("receiver.example; dmarc=fail (p=reject) header.from=example.com")
        );
        assert_eq!(r.reported_domain.as_deref(), Some("example.com"));
        assert_eq!(r.delivery_result.as_deref(), Some("reject"));
        assert_eq!(r.original_from.as_deref(), Some("ceo@example.com"));
        assert_eq!(r.original_subject.as_deref(), Some("Urgent wire transfer"));
        assert_eq!(
            r.original_message_id.as_deref(),
            Some("spoof-1@example.com")
        );
        assert!(
            r.original_headers
                .as_deref()
                .is_some_and(|h| h.contains("Subject: Urgent"))
        );
        assert!(
            !r.original_headers
                .as_deref()
                .unwrap_or_default()
                .contains("wire the money")
        );
        assert!(r.feedback_report_raw.contains("Identity-Alignment: none"));
        let body = parsed.original_body.expect("a body");
        assert!(String::from_utf8_lossy(&body).contains("Please wire the money today."));
    }

    #[test]
    fn a_message_without_a_feedback_report_is_an_error() {
        let plain = "From: a@example.com\r\nSubject: hi\r\n\r\nA message claiming to be from you failed.\r\n";
        assert_eq!(
            parse(plain.as_bytes()).expect_err("fails").code(),
            "not_arf"
        );
        let no_type = ARF.replace("Feedback-Type: auth-failure\r\n", "");
        assert_eq!(
            parse(no_type.as_bytes()).expect_err("fails").code(),
            "missing_element"
        );
    }
}
