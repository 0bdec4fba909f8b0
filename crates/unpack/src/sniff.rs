//! Recognizing content by its first bytes.

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Empty,
    Gzip,
    Zip,
    Xml,
    Json,
    /// An RFC 5322 message (header fields first).
    Message,
    /// An mbox file (`From ` separator line first).
    Mbox,
    Unknown,
}

/// How many bytes `sniff` wants to see.
pub(crate) const HEAD_LEN: usize = 4096;

pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"From ") {
        return Sniffed::Mbox;
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return if head.is_empty() {
            Sniffed::Empty
        } else {
            Sniffed::Unknown
        };
    };
    match text[first] {
        b'<' => Sniffed::Xml,
        b'{' | b'[' => Sniffed::Json,
        _ if first == 0 && is_header_field(text) => Sniffed::Message,
        _ => Sniffed::Unknown,
    }
}

/// True when the text starts with `Name: value` (RFC 5322 field-name: printable ASCII but
/// colon) and that is followed by more header-like lines or the end of the head.
fn is_header_field(text: &[u8]) -> bool {
    let line_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let line = &text[..line_end];
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0
        && line[..colon]
            .iter()
            .all(|&b| (33..=126).contains(&b) && b != b':')
}

/// A JSON payload is an SMTP TLS report when its head names TLS-RPT fields.
pub(crate) fn is_tls_report(head: &[u8]) -> bool {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    has(b"\"organization-name\"") || has(b"\"policies\"") || has(b"\"report-id\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_recognized_by_its_bytes() {
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Sniffed::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"\xEF\xBB\xBF<?xml"), Sniffed::Xml);
        assert_eq!(sniff(b"\r\n  <feedback>"), Sniffed::Xml);
        assert_eq!(sniff(b"{\"organization-name\":1}"), Sniffed::Json);
        assert_eq!(
            sniff(b"Return-Path: <a@example.com>\r\nFrom: x\r\n"),
            Sniffed::Message
        );
        assert_eq!(
            sniff(b"From MAILER-DAEMON Thu Nov 28 00:00:00 2024\n"),
            Sniffed::Mbox
        );
        assert_eq!(sniff(b"unused\n"), Sniffed::Unknown);
        assert_eq!(sniff(b"   \n"), Sniffed::Unknown);
    }
}
