//! `rua reparse`: every kept report parsed again (after an upgrade), and rejects retried.

use rua_store::{Origin, PayloadTee, ReportWriter, Store, StoreError};

use crate::exit;
use crate::settings::{Settings, open_store};

pub fn run(settings: &Settings) -> anyhow::Result<u8> {
    let mut store = open_store(&settings.db, &settings.ingest_options(true))?;
    let outcome = reparse(&mut store, &settings.limits.parse)?;
    tracing::info!(
        "reparsed {} reports ({} no longer parse and were kept as they were); {} rejects now parse",
        outcome.n_reparsed,
        outcome.n_failed,
        outcome.n_recovered
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
        let batch = store.stored_rejects(from, BATCH)?;
        if batch.is_empty() {
            break;
        }
        for reject in &batch {
            from = reject.reject_key + 1;
            let writer = store.report()?;
            if reread(writer, reject.reader(), &reject.origin, options)?.is_ok() {
                store.forget_reject(reject.reject_key)?;
                done.n_recovered += 1;
            }
        }
    }
    store.finish_run(false)?;
    Ok(done)
}
