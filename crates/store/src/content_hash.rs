//! A report's content hash: BLAKE3 of every value as the reporter wrote it (trimmed), in
//! document order, records first. It tells a duplicate (same identity, same values) from a
//! conflict (same identity, other values), whatever the report's encoding on its way.

use rua_report::aggregate::{Record, Report};
use rua_report::failure::FailureReport;
use rua_report::smtp_tls::TlsReport;

/// BLAKE3 fed through a buffer. The content hash takes a few dozen values of a few bytes
/// each per record, and BLAKE3 is many times faster given kilobytes at once (it hashes
/// 1 KB chunks side by side) than called once per value. The hash is the same however its
/// input is split.
#[derive(Default)]
pub(crate) struct ContentHasher {
    hasher: blake3::Hasher,
    pending: Vec<u8>,
}

/// Bytes buffered before they go to the hasher: 16 chunks, what AVX-512 hashes at once.
const HASH_BUFFER: usize = 16 << 10;

impl ContentHasher {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= HASH_BUFFER {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
    }

    /// The hash of everything fed since the last one (or a reset); then starts afresh.
    pub(crate) fn finish(&mut self) -> blake3::Hash {
        self.hasher.update(&self.pending);
        let hash = self.hasher.finalize();
        self.reset();
        hash
    }

    pub(crate) fn reset(&mut self) {
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
pub(crate) fn hash_record(h: &mut ContentHasher, r: &Record) {
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
pub(crate) fn hash_report(h: &mut ContentHasher, r: &Report) {
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

/// An SMTP TLS report's values as written, in document order.
pub(crate) fn hash_tls_report(h: &mut ContentHasher, r: &TlsReport) {
    for v in [
        r.organization_name.as_deref(),
        r.contact_info.as_deref(),
        Some(r.report_id.as_str()),
        Some(r.begin_raw.as_str()),
        Some(r.end_raw.as_str()),
    ] {
        feed(h, v);
    }
    for p in &r.policies {
        h.update(&[0x1e]);
        feed(h, p.policy_type.raw.as_deref());
        for line in &p.policy_strings {
            feed(h, Some(line));
        }
        h.update(&[0x1d]);
        feed(h, p.policy_domain_raw.as_deref());
        for host in &p.mx_hosts {
            feed(h, Some(host));
        }
        h.update(&[0x1d]);
        for n in [p.successful_sessions, p.failed_sessions] {
            feed(h, n.map(|n| n.to_string()).as_deref());
        }
        for d in &p.failure_details {
            h.update(&[0x1d]);
            for v in [
                d.result_type.raw.as_deref(),
                d.sending_mta_ip_raw.as_deref(),
                d.receiving_mx_hostname_raw.as_deref(),
                d.receiving_mx_helo.as_deref(),
                d.receiving_ip_raw.as_deref(),
                d.failed_sessions.map(|n| n.to_string()).as_deref(),
                d.additional_information.as_deref(),
                d.failure_reason_code.as_deref(),
            ] {
                feed(h, v);
            }
        }
    }
}

/// A failure report's content: its feedback fields and the original's headers, with line
/// endings made one (the same report sent with CRLF and with LF is one report).
pub(crate) fn hash_failure_report(h: &mut ContentHasher, r: &FailureReport) {
    for text in [
        Some(r.feedback_report_raw.as_str()),
        r.original_headers.as_deref(),
    ] {
        match text {
            Some(text) => {
                for line in text.lines() {
                    feed(h, Some(line.trim_end()));
                }
            }
            None => feed(h, None),
        }
        h.update(&[0x1e]);
    }
}

#[cfg(test)]
mod tests {
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
}
