//! `rua ingest`: unpack every input, parse aggregate payloads into the store, keep the rest.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use rua_report::{ErrorKind, ParseError};
use rua_store::{
    Content, Origin, Outcome, PayloadTee, RejectRow, ReportWriter, RunCounts, Store, StoreError,
};
use rua_unpack::{Limits, Payload, PayloadKind, Provenance, UnpackError, Visitor, limit_exceeded};

/// Reads every input into the store as one ingest run.
pub fn ingest(
    store: &mut Store,
    inputs: &[PathBuf],
    limits: &Limits,
    show_progress: bool,
) -> anyhow::Result<RunCounts> {
    let command = format!(
        "ingest {}",
        inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    store.start_run(&command)?;
    let progress = show_progress.then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let mut visitor = Ingest::new(store, progress.as_ref());
    let mut result = Ok(());
    for input in inputs {
        if let Err(e) = rua_unpack::unpack_path(input, limits, &mut visitor) {
            result = Err(e);
            break;
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let counts = store.finish_run(result.is_err())?;
    result?;
    Ok(counts)
}

/// What `rua reparse` did.
#[derive(Debug, Default)]
pub struct Reparsed {
    pub n_reparsed: u64,
    pub n_failed: u64,
    pub n_recovered: u64,
}

/// Parses a kept payload into `writer` and stores it: `Ok(Ok(()))` when stored,
/// `Ok(Err(why))` when it is not a readable report (nothing is written), `Err` when the store
/// failed.
fn reread<R: std::io::BufRead>(
    mut writer: ReportWriter<'_>,
    reader: R,
    origin: &Origin,
) -> Result<Result<(), String>, StoreError> {
    let mut tee = PayloadTee::new(reader, true);
    match rua_report::parse(&mut tee, &mut writer) {
        Ok(report) => match tee.finish() {
            Ok(content) => writer.finish(&report, content, origin).map(|_| Ok(())),
            Err(e) => writer.abort().map(|()| Err(e.to_string())),
        },
        Err(ParseError {
            kind: ErrorKind::Sink(inner),
            ..
        }) => {
            writer.abort()?;
            Err(StoreError::from_sink(inner))
        }
        Err(e) => writer.abort().map(|()| Err(e.to_string())),
    }
}

/// Parses every kept report again, replacing its rows, then retries rejected aggregate
/// payloads; a report that no longer parses is left as it was (and warned about).
pub fn reparse(store: &mut Store) -> anyhow::Result<Reparsed> {
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
            match reread(writer, stored.reader(), &stored.origin)? {
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
            if reread(writer, reject.reader(), &reject.origin)?.is_ok() {
                store.forget_reject(reject.reject_key)?;
                done.n_recovered += 1;
            }
        }
    }
    store.finish_run(false)?;
    Ok(done)
}

pub fn summary_line(c: &RunCounts) -> String {
    format!(
        "{} new reports, {} duplicates, {} conflicts, {} rejects, {} other reports; {} records, {} messages added",
        c.n_reports_new,
        c.n_duplicates,
        c.n_conflicts,
        c.n_rejects,
        c.n_other,
        c.n_records,
        c.n_messages
    )
}

/// The unpack visitor that parses aggregate payloads into the store and keeps everything
/// else (other reports, rejects).
pub struct Ingest<'a> {
    store: &'a mut Store,
    progress: Option<&'a ProgressBar>,
    /// Payloads that were not reports at all (kept as `not_report` rejects).
    pub n_not_report: u64,
}

fn origin(p: &Provenance) -> Origin {
    let message = p.message.as_ref();
    Origin {
        source: p.source.clone(),
        chain: p.chain.join(" > "),
        file_name: p.file_name.clone(),
        message_id: message.and_then(|m| m.message_id.clone()),
        message_subject: message.and_then(|m| m.subject.clone()),
        message_from: message.and_then(|m| m.from.clone()),
        message_date: message.and_then(|m| m.date.clone()),
    }
}

impl<'a> Ingest<'a> {
    pub fn new(store: &'a mut Store, progress: Option<&'a ProgressBar>) -> Self {
        Self {
            store,
            progress,
            n_not_report: 0,
        }
    }

    fn tick(&self) {
        if let Some(bar) = self.progress {
            let c = self.store.counts();
            bar.set_message(format!(
                "{} new, {} duplicates, {} rejects, {} records",
                c.n_reports_new, c.n_duplicates, c.n_rejects, c.n_records
            ));
        }
    }

    fn keep_reject(
        &mut self,
        p: &Provenance,
        kind: &str,
        code: &str,
        reason: String,
        content: Content,
    ) -> Result<(), StoreError> {
        if code == "not_report" && p.message.is_some() {
            // Mailboxes collect bounces and newsletters too: worth a note, not a cron mail.
            tracing::info!("kept {p}: {reason}");
        } else {
            tracing::warn!("rejected {p}: {reason}");
        }
        let row = RejectRow {
            payload_kind: kind.to_owned(),
            reason_code: code.to_owned(),
            reason,
            origin: origin(p),
        };
        self.store.reject(row, content)?;
        Ok(())
    }

    fn aggregate(&mut self, payload: Payload<'_>) -> Result<(), StoreError> {
        let prov = payload.provenance;
        // The tee keeps the bytes whatever happens, so a failed report is kept whole.
        let mut tee = PayloadTee::new(payload.reader, true);
        let mut writer = self.store.report()?;
        match rua_report::parse(&mut tee, &mut writer) {
            Ok(report) => match tee.finish() {
                Ok(content) => {
                    let outcome = writer.finish(&report, content, &origin(prov))?;
                    if let Outcome::Conflict { of, .. } = outcome {
                        tracing::info!(
                            "{prov}: same report as #{of} with other content; kept, not counted"
                        );
                    }
                    Ok(())
                }
                Err(e) => {
                    writer.abort()?;
                    let code = if limit_exceeded(&e).is_some() {
                        "limit_decompressed"
                    } else {
                        "read_error"
                    };
                    let content = content_of(payload.container_bytes);
                    self.keep_reject(
                        prov,
                        "aggregate",
                        code,
                        format!("cannot read payload: {e}"),
                        content,
                    )
                }
            },
            Err(e) => {
                writer.abort()?;
                let e = match e {
                    // The store failed while taking records: that is fatal, not the report.
                    ParseError {
                        kind: ErrorKind::Sink(inner),
                        ..
                    } => return Err(StoreError::from_sink(inner)),
                    e => e,
                };
                let code = if limit_exceeded(&e).is_some() {
                    "limit_decompressed"
                } else {
                    e.kind.code()
                };
                // Keep the whole payload: read what the parser left, within the limits.
                let _ = std::io::copy(&mut tee, &mut std::io::sink());
                let content = match tee.finish_partial() {
                    Ok(c) if c.n_bytes > 0 && code != "limit_decompressed" => c,
                    _ => content_of(payload.container_bytes),
                };
                self.keep_reject(prov, "aggregate", code, e.to_string(), content)
            }
        }
    }
}

/// Content of bytes in memory (an empty input when there are none).
fn content_of(bytes: Option<&[u8]>) -> Content {
    Content::of(bytes.unwrap_or_default(), true)
}

impl Visitor for Ingest<'_> {
    type Error = StoreError;

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), StoreError> {
        let result = match payload.kind {
            PayloadKind::Aggregate => self.aggregate(payload),
            PayloadKind::SmtpTls | PayloadKind::Failure | PayloadKind::NotReport => {
                let mut bytes = Vec::new();
                let read = payload.reader.read_to_end(&mut bytes);
                match (payload.kind, read) {
                    (_, Err(e)) => {
                        let code = if limit_exceeded(&e).is_some() {
                            "limit_decompressed"
                        } else {
                            "read_error"
                        };
                        let content = content_of(payload.container_bytes);
                        self.keep_reject(
                            payload.provenance,
                            payload.kind.as_str(),
                            code,
                            e.to_string(),
                            content,
                        )
                    }
                    (PayloadKind::NotReport, Ok(_)) => {
                        self.n_not_report += 1;
                        self.keep_reject(
                            payload.provenance,
                            "not_report",
                            "not_report",
                            "not a DMARC, SMTP TLS or failure report".to_owned(),
                            Content::of(&bytes, true),
                        )
                    }
                    (kind, Ok(_)) => {
                        self.store.other_payload(
                            kind.as_str(),
                            origin(payload.provenance),
                            Content::of(&bytes, true),
                        )?;
                        Ok(())
                    }
                }
            }
        };
        self.tick();
        result
    }

    fn reject(
        &mut self,
        p: &Provenance,
        error: UnpackError,
        bytes: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let content = content_of(bytes);
        let result = self.keep_reject(p, "container", error.code(), error.to_string(), content);
        self.tick();
        result
    }
}
