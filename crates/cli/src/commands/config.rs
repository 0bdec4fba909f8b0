//! `rua config check`.

use crate::exit;
use crate::settings::{Settings, mailboxes};

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Validate the file, show what rua will use, and connect to every mailbox.
    Check,
}

pub fn run(action: &Action, settings: &Settings) -> anyhow::Result<u8> {
    match action {
        Action::Check => check(settings),
    }
}

/// `rua config check`: what rua will use, on stdout; a mailbox that fails, on stderr.
fn check(settings: &Settings) -> anyhow::Result<u8> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match &settings.config_path {
        Some(path) => writeln!(out, "configuration: {}", path.display())?,
        None => writeln!(out, "configuration: none found, using defaults")?,
    }
    writeln!(out, "database: {}", settings.db.display())?;
    if let Some(root) = &settings.config.lake.path {
        let lake = crate::commands::lake::options(settings, root, &Default::default())?;
        let compaction = match lake.compact_after {
            None => "never merges small files".to_owned(),
            Some(_) => format!(
                "merges small files {} older than the newest",
                settings.config.lake.compact_after.trim()
            ),
        };
        writeln!(
            out,
            "lake: {} as node {}; {compaction}",
            root.display(),
            lake.node
        )?;
    }
    let mut n_unreachable = 0;
    for account in &mailboxes(settings, None)? {
        let checked = rua_imap::Client::connect(account).and_then(|mut client| {
            let status = client.select(&account.folder, true);
            client.logout();
            status
        });
        match checked {
            Ok(status) => writeln!(
                out,
                "mailbox {}: ok, {} holds {} messages (UIDVALIDITY {})",
                account.name,
                account.location(),
                status.n_messages,
                status.uid_validity
            )?,
            Err(e) => {
                tracing::error!("mailbox {}: {e}", account.name);
                n_unreachable += 1;
            }
        }
    }
    Ok(if n_unreachable > 0 {
        exit::CANNOT_CONNECT
    } else {
        exit::OK
    })
}
