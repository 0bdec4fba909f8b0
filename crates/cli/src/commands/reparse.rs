//! `rua reparse`: every kept report parsed again (after an upgrade), and rejects retried.

use std::io::Read as _;

use rua_store::{
    Content, KeptPayload, Origin, PayloadTee, RejectRow, ReportWriter, Store, StoreError,
};

use rua_unpack::PayloadKind;

use crate::exit;
use crate::pipeline::{OtherReport, Refused};
use crate::settings::{Settings, open_store};

pub fn run(settings: &Settings) -> anyhow::Result<u8> {
    let mut store = open_store(&settings.db, &settings.ingest_options(true))?;
    let outcome = reparse(&mut store, &settings.limits.parse)?;
    // The records written again get their sender and class stored, as after an ingest.
    let n_classified = super::enrich::classify(&mut store)?;
    tracing::info!(
        "reparsed {} reports ({} no longer parse and were kept as they were); {} rejects now parse; {} SMTP TLS and failure reports read from other_payloads; {n_classified} records classified",
        outcome.n_reparsed,
        outcome.n_failed,
        outcome.n_recovered,
        outcome.n_moved
    );
    Ok(if outcome.n_failed > 0 {
        exit::REJECTS
    } else {
        exit::OK
    })
}

/// What `rua reparse` did.
#[derive(Debug, Default)]
struct Reparsed {
    n_reparsed: u64,
    n_failed: u64,
    n_recovered: u64,
    /// SMTP TLS and failure payloads moved out of `other_payloads`.
    n_moved: u64,
}

/// A kept payload's bytes, or `None` when its kept copy is not gzip.
fn gunzipped(kept: &KeptPayload) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    kept.reader().read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// What the store keeps of a kept payload (its `bytes`, decompressed): the same bytes and
/// the same compressed copy.
fn content(kept: &KeptPayload, bytes: &[u8]) -> Content {
    Content::of(bytes, Some(kept.raw_gz().to_vec()))
}

/// Parses a kept payload into `writer` and stores it: `Ok(Ok(()))` when stored,
/// `Ok(Err(why))` when it is not a readable report (nothing is written), `Err` when the store
/// failed.
fn reread<R: std::io::BufRead>(
    mut writer: ReportWriter<'_>,
    reader: R,
    origin: &Origin,
    options: &rua_report::aggregate::Options,
) -> Result<Result<(), String>, StoreError> {
    let mut tee = PayloadTee::new(reader, true);
    match rua_report::aggregate::parse_with(&mut tee, &mut writer, options) {
        Ok(Ok(report)) => match tee.finish() {
            Ok(content) => writer.finish(&report, content, origin).map(|_| Ok(())),
            Err(e) => writer.abort().map(|()| Err(e.to_string())),
        },
        Ok(Err(e)) => writer.abort().map(|()| Err(e.to_string())),
        Err(store) => {
            writer.abort()?;
            Err(store)
        }
    }
}

/// Parses every kept report again, replacing its rows, then retries rejected aggregate
/// payloads; a report that no longer parses is left as it was (and warned about).
fn reparse(
    store: &mut Store,
    options: &rua_report::aggregate::Options,
) -> anyhow::Result<Reparsed> {
    const BATCH: usize = 500;
    store.start_run("reparse")?;
    let mut done = Reparsed::default();
    let mut from = 0;
    loop {
        let batch = store.stored_payloads(from, BATCH)?;
        if batch.is_empty() {
            break;
        }
        for stored in &batch {
            from = stored.report_key + 1;
            let writer = store.replace_report(stored)?;
            match reread(writer, stored.reader(), &stored.origin, options)? {
                Ok(()) => done.n_reparsed += 1,
                Err(why) => {
                    let (key, source) = (stored.report_key, &stored.origin.source);
                    tracing::warn!(
                        "report #{key} ({source}) no longer parses, kept as it was: {why}"
                    );
                    done.n_failed += 1;
                }
            }
        }
    }
    store.commit()?;
    let mut from = 0;
    loop {
        let batch = store.stored_rejects("aggregate", from, BATCH)?;
        if batch.is_empty() {
            break;
        }
        for reject in &batch {
            from = reject.key + 1;
            let writer = store.report()?;
            if reread(writer, reject.reader(), &reject.origin, options)?.is_ok() {
                store.forget_reject(reject.key)?;
                done.n_recovered += 1;
            }
        }
    }
    // SMTP TLS reports rejected before are tried again.
    let mut from = 0;
    loop {
        let batch = store.stored_rejects(PayloadKind::SmtpTls.as_str(), from, BATCH)?;
        if batch.is_empty() {
            break;
        }
        for reject in &batch {
            from = reject.key + 1;
            let Some(bytes) = gunzipped(reject) else {
                continue;
            };
            if let Ok(report) = OtherReport::parse(PayloadKind::SmtpTls, &bytes) {
                report.store(store, content(reject, &bytes), &reject.origin)?;
                store.forget_reject(reject.key)?;
                done.n_recovered += 1;
            }
        }
    }
    // Reports an older rua kept aside in other_payloads (failure reports whole, body and
    // all): read into their tables (a failure report's body only if configured), or into
    // rejects with the reason when they cannot be read.
    for kind in [PayloadKind::Failure, PayloadKind::SmtpTls] {
        let mut from = 0;
        loop {
            let batch = store.stored_other_payloads(kind.as_str(), from, BATCH)?;
            if batch.is_empty() {
                break;
            }
            for kept in &batch {
                from = kept.key + 1;
                // A kept copy that is not gzip is left where it is.
                let Some(bytes) = gunzipped(kept) else {
                    continue;
                };
                let content = content(kept, &bytes);
                match OtherReport::parse(kind, &bytes) {
                    Ok(report) => {
                        report.store(store, content, &kept.origin)?;
                    }
                    Err(Refused { code, reason }) => {
                        let row = RejectRow {
                            payload_kind: kind.as_str().to_owned(),
                            reason_code: code.to_owned(),
                            reason,
                            origin: kept.origin.clone(),
                        };
                        store.reject_kept(row, content)?;
                    }
                }
                done.n_moved += 1;
                store.forget_other_payload(kept.key)?;
            }
        }
    }
    store.finish_run(false)?;
    Ok(done)
}
