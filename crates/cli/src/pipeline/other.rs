//! Payloads that are not aggregate reports: SMTP TLS and failure reports, read into their
//! tables (or rejected with the reason) up to their bound, and everything else, kept as a
//! `not_report` reject and never read whole.

use std::io::Read;

use rua_report::{failure, smtp_tls};
use rua_store::{Content, Origin, Outcome, Store, StoreError};
use rua_unpack::{IN_MEMORY_BYTES, Payload, PayloadKind};

use super::{Ingest, IngestError, content_of, note_conflict, origin, unreadable_code};

impl Ingest<'_> {
    /// Keeps a payload that is not an aggregate report: an SMTP TLS or failure report in
    /// `other_payloads` (read into memory up to `max_other_report_bytes`), anything else as a
    /// `not_report` reject. Neither is ever held whole past its bound: a payload that is
    /// larger is kept as it arrived (the container's bytes, e.g. the gzip attachment) when
    /// those are in memory, else as its first bytes up to the bound, and only as much of it
    /// is decompressed as was needed to tell what it is.
    pub(super) fn other(&mut self, payload: Payload<'_>) -> Result<(), IngestError> {
        let kind = payload.kind;
        let bound = match kind {
            PayloadKind::NotReport => IN_MEMORY_BYTES,
            _ => self.bounds.unpack.max_other_report_bytes,
        };
        let mut bytes = Vec::new();
        let read = (&mut *payload.reader)
            .take(bound + 1)
            .read_to_end(&mut bytes);
        let prov = payload.provenance;
        let is_whole = match read {
            Ok(n) => n as u64 <= bound,
            Err(e) => {
                let code = unreadable_code(&e, "read_error");
                let content = content_of(payload.container_bytes);
                return self.keep_reject(prov, kind.as_str(), code, e.to_string(), content);
            }
        };
        // What is kept: the payload (as the gzip it came in, when it did), or past the bound
        // what it arrived in, or what was read of it.
        let content = match (is_whole, payload.container_bytes) {
            (true, _) => Content::of(&bytes, payload.gzip.map(<[u8]>::to_vec)),
            (false, Some(container)) => Content::of(container, None),
            (false, None) => {
                bytes.truncate(bound as usize);
                Content::of(&bytes, None)
            }
        };
        let kept = if payload.container_bytes.is_some() {
            "kept as received"
        } else {
            "its first bytes kept"
        };
        match (kind, is_whole) {
            (PayloadKind::NotReport, true) => {
                self.n_not_report += 1;
                let reason = "not a DMARC, SMTP TLS or failure report".to_owned();
                self.keep_reject(prov, "not_report", "not_report", reason, content)
            }
            (PayloadKind::NotReport, false) => {
                self.n_not_report += 1;
                let reason = format!(
                    "not a DMARC, SMTP TLS or failure report (more than {bound} bytes once decompressed; read no further, {kept})"
                );
                self.keep_reject(prov, "not_report", "not_report", reason, content)
            }
            (_, true) => match OtherReport::parse(kind, &bytes) {
                Ok(report) => {
                    let outcome = report.store(self.store, content, &origin(prov))?;
                    note_conflict(prov, outcome);
                    Ok(())
                }
                Err(Refused { code, reason }) => {
                    self.keep_reject(prov, kind.as_str(), code, reason, content)
                }
            },
            (_, false) => {
                let reason = format!(
                    "{} report larger than the limit of {bound} bytes (limits.max_other_report_bytes; {kept})",
                    kind.as_str()
                );
                self.keep_reject(prov, kind.as_str(), "limit_report_size", reason, content)
            }
        }
    }
}

/// A report of a kind other than aggregate, parsed: what `rua ingest` reads from a payload and
/// `rua reparse` from one an older rua kept aside. One branch per kind.
pub(crate) enum OtherReport {
    Tls(smtp_tls::TlsReport),
    Failure(Box<failure::Parsed>),
}

/// Why a payload of another kind is not a report: the reject's code and reason.
pub(crate) struct Refused {
    pub(crate) code: &'static str,
    pub(crate) reason: String,
}

impl OtherReport {
    /// `bytes` read as a report of `kind` (SMTP TLS or failure; any other kind is not one).
    pub(crate) fn parse(kind: PayloadKind, bytes: &[u8]) -> Result<OtherReport, Refused> {
        match kind {
            PayloadKind::SmtpTls => {
                smtp_tls::parse(bytes)
                    .map(OtherReport::Tls)
                    .map_err(|e| Refused {
                        code: e.kind.code(),
                        reason: e.to_string(),
                    })
            }
            PayloadKind::Failure => failure::parse(bytes)
                .map(|parsed| OtherReport::Failure(Box::new(parsed)))
                .map_err(|e| Refused {
                    code: e.code(),
                    reason: e.to_string(),
                }),
            PayloadKind::Aggregate | PayloadKind::NotReport => Err(Refused {
                code: "not_report",
                reason: "not a DMARC, SMTP TLS or failure report".to_owned(),
            }),
        }
    }

    /// Stores the report unless it is a copy of one stored.
    pub(crate) fn store(
        &self,
        store: &mut Store,
        content: Content,
        origin: &Origin,
    ) -> Result<Outcome, StoreError> {
        match self {
            OtherReport::Tls(report) => store.add_tls_report(report, content, origin),
            OtherReport::Failure(parsed) => store.add_failure_report(parsed, content, origin),
        }
    }
}
