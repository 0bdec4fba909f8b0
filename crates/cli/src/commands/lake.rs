//! Publishing to the Parquet lake: `rua export --incremental`, and `rua ingest` / `rua fetch`
//! after each commit when `[lake] path` is configured.

use std::path::Path;

use anyhow::Context as _;
use rua_store::{LakeOptions, PublishSummary, Store};

use crate::period;
use crate::settings::Settings;

/// What the command line says over `[lake]`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// This database's name in the lake (default: `[lake] node`, else the host name).
    #[arg(long, requires = "incremental")]
    pub node: Option<String>,
    /// Merge small files older than this (default: `[lake] compact_after`); `off` never.
    #[arg(long, requires = "incremental")]
    pub compact_after: Option<String>,
}

/// The host name, as a node name.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let name = name.trim().split('.').next()?.to_owned();
    rua_store::is_node_name(&name).then_some(name)
}

/// The lake's options for `root`, from the configuration and the overrides.
pub fn options(
    settings: &Settings,
    root: &Path,
    overrides: &Overrides,
) -> anyhow::Result<LakeOptions> {
    let config = &settings.config.lake;
    let node = overrides
        .node
        .clone()
        .or_else(|| config.node.clone())
        .or_else(host_name)
        .context("no node name: set [lake] node (or pass --node)")?;
    anyhow::ensure!(
        rua_store::is_node_name(&node),
        "invalid node name {node:?} ([lake] node or --node): letters, digits, '.', '_' and '-', not first"
    );
    let compact_after = overrides
        .compact_after
        .as_deref()
        .unwrap_or(&config.compact_after);
    let compact_after = match compact_after.trim() {
        "off" => None,
        text => Some(
            period::duration(text)
                .map_err(anyhow::Error::msg)
                .context("[lake] compact_after")?,
        ),
    };
    Ok(LakeOptions {
        root: root.to_owned(),
        node,
        compact_after,
        compact_min_files: config.compact_min_files,
        target_file_bytes: config.target_file_mb.saturating_mul(1 << 20),
    })
}

/// Publishes, and says what it did.
pub fn publish(store: &mut Store, lake: &LakeOptions) -> anyhow::Result<PublishSummary> {
    std::fs::create_dir_all(&lake.root)
        .with_context(|| format!("cannot create the lake {}", lake.root.display()))?;
    // The database records the lake it publishes to: the same directory, however named.
    let root = std::fs::canonicalize(&lake.root)
        .with_context(|| format!("cannot read the lake {}", lake.root.display()))?;
    let lake = &LakeOptions {
        root,
        ..lake.clone()
    };
    let summary = store
        .publish_lake(lake)
        .with_context(|| format!("publishing to {}", lake.root.display()))?;
    let mut line = format!(
        "published {} new reports to {} as node {}: {} rows in {} files",
        summary.new_reports,
        lake.root.display(),
        lake.node,
        summary.rows_written,
        summary.files_written
    );
    if summary.resumed_batches > 0 {
        line += &format!(
            "; finished {} publish(es) an earlier run left half done",
            summary.resumed_batches
        );
    }
    if summary.rewritten_groups > 0 {
        line += &format!(
            "; wrote {} file group(s) again for reports `rua reparse` changed",
            summary.rewritten_groups
        );
    }
    if summary.compactions > 0 {
        line += &format!(
            "; merged {} small file group(s) into {}",
            summary.merged_groups, summary.compactions
        );
    }
    tracing::info!("{line}");
    if summary.cannot_compact {
        tracing::warn!(
            "{}: small files are due to be merged, but this file system cannot exchange two \
             directories in one rename (renameat2 RENAME_EXCHANGE), so they stay as they are; \
             set [lake] compact_after = \"off\" to stop trying",
            lake.root.display()
        );
    }
    Ok(summary)
}

/// After an ingest or fetch commit: publishes when `[lake] path` is set. A failure is a
/// warning (the reports are stored; the next publish catches up).
pub fn after_ingest(store: &mut Store, settings: &Settings) {
    let Some(root) = settings.config.lake.path.as_deref() else {
        return;
    };
    let result =
        options(settings, root, &Overrides::default()).and_then(|lake| publish(store, &lake));
    if let Err(e) = result {
        tracing::warn!(
            "publishing to the lake failed (the reports are stored; the next publish catches up): {e:#}"
        );
    }
}
