//! `rua ingest`: every input read into the store as one run.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use rua_store::{RunCounts, Store};

use crate::exit;
use crate::pipeline::{Bounds, Ingest, summary_line};
use crate::settings::{Settings, open_store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inputs; directories are read recursively.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Do not keep each accepted report's XML (smaller database; no `rua reparse`).
    #[arg(long)]
    no_keep_raw: bool,
    #[command(flatten)]
    enrich: crate::commands::enrich::AfterIngest,
}

pub fn run(args: &Args, settings: &Settings, quiet: bool) -> anyhow::Result<u8> {
    let options = settings.ingest_options(settings.keep_raw && !args.no_keep_raw);
    let mut store = open_store(&settings.db, &options)?;
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let counts = ingest(&mut store, &args.inputs, &settings.limits, show_progress)?;
    let line = summary_line(&counts);
    if counts.n_rejects > 0 {
        tracing::warn!("{line}; see `rua rejects`");
    } else {
        tracing::info!("{line}");
    }
    store.release_ingest_memory()?;
    crate::commands::enrich::after_ingest(&mut store, settings, args.enrich, counts.n_records);
    crate::commands::lake::after_ingest(&mut store, settings);
    Ok(if counts.n_rejects > 0 {
        exit::REJECTS
    } else {
        exit::OK
    })
}

/// Reads every input into the store as one ingest run.
fn ingest(
    store: &mut Store,
    inputs: &[PathBuf],
    bounds: &Bounds,
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
    let n_workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut visitor = Ingest::with_workers(store, progress.as_ref(), *bounds, n_workers);
    let mut result = Ok(());
    for input in inputs {
        if let Err(e) = rua_unpack::unpack_path(input, &bounds.unpack, &mut visitor) {
            result = Err(e);
            break;
        }
    }
    if result.is_ok() {
        result = visitor.finish();
    }
    drop(visitor);
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let counts = store.finish_run(result.is_err())?;
    result?;
    Ok(counts)
}
