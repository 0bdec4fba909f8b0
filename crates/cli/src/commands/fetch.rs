//! `rua fetch`: report mails from IMAP mailboxes into the store, once (cron) or `--watch`.
//!
//! Per folder and batch: UID FETCH the bodies, unpack and parse each message into the store,
//! commit, then apply the after-actions, then record the highest UID done. The commit of one
//! batch overlaps the reading of the next: a batch is acted on only after the following one
//! was handed to the store's writer, which returns once the earlier batch is durable. A
//! failure anywhere before the last step leaves the batch to be read again by the next run,
//! where deduplication makes it harmless; nothing is ever moved or deleted before its commit.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use rua_imap::{Account, Action, Client, IdleOutcome, ImapError};
use rua_store::{Content, FolderState, OpenOptions, Origin, RejectRow, Store, StoreError};

use crate::exit;
use crate::pipeline::{Bounds, Ingest, IngestError, summary_line};
use crate::settings::{Settings, mailboxes};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep running: wait for new mail with IDLE (or polling) until SIGTERM or SIGINT.
    #[arg(long)]
    watch: bool,
    /// Only the mailbox with this name.
    #[arg(long)]
    mailbox: Option<String>,
    #[command(flatten)]
    enrich: crate::commands::enrich::AfterIngest,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let accounts = mailboxes(settings, args.mailbox.as_deref())?;
    let target = Target {
        db: &settings.db,
        options: settings.ingest_options(settings.keep_raw),
        limits: settings.limits,
        settings,
        enrich: args.enrich,
    };
    let stop = stop_flag()?;
    if args.watch {
        watch(&target, &accounts, &stop)?;
        return Ok(exit::OK);
    }
    let pass = fetch_once(&target, &accounts, &stop)?;
    Ok(if pass.n_unreachable == accounts.len() as u64 {
        exit::CANNOT_CONNECT
    } else if pass.n_unreachable > 0 || pass.n_failed > 0 || pass.n_rejected > 0 {
        exit::REJECTS
    } else if pass.n_messages == 0 {
        exit::NOTHING_TO_DO
    } else {
        exit::OK
    })
}

/// SIGTERM and SIGINT raise the returned flag; long-running work checks it between batches.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    Ok(stop)
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Its reports are stored (new or already there).
    Report,
    /// Something in it could not be read; kept in `rejects`.
    Rejected,
    /// No report in it at all.
    NoReport,
}

/// Totals of one pass over every mailbox.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pass {
    pub n_messages: u64,
    pub n_rejected: u64,
    pub n_no_report: u64,
    /// Mailboxes that could not be reached or logged in to.
    pub n_unreachable: u64,
    /// Mailboxes where something failed after connecting (the rest is read next time).
    pub n_failed: u64,
}

impl Pass {
    fn count(&mut self, handled: &[(u32, Handled)]) {
        let n = |kind| handled.iter().filter(|(_, h)| *h == kind).count() as u64;
        self.n_messages += handled.len() as u64;
        self.n_rejected += n(Handled::Rejected);
        self.n_no_report += n(Handled::NoReport);
    }

    fn add(&mut self, other: Pass) {
        self.n_messages += other.n_messages;
        self.n_rejected += other.n_rejected;
        self.n_no_report += other.n_no_report;
        self.n_unreachable += other.n_unreachable;
        self.n_failed += other.n_failed;
    }
}

/// Where the database is and how to open it for writing.
#[derive(Debug)]
pub struct Target<'a> {
    pub db: &'a Path,
    pub options: OpenOptions,
    pub limits: Bounds,
    /// For the enrichment and the publish after each committed pass.
    pub settings: &'a Settings,
    pub enrich: crate::commands::enrich::AfterIngest,
}

impl Target<'_> {
    /// After each commit: enrich the new addresses, publish to the lake.
    fn after_commit(&self, store: &mut Store, counts: &rua_store::RunCounts) {
        crate::commands::enrich::after_ingest(store, self.settings, self.enrich, counts.n_records);
        crate::commands::lake::after_ingest(store, self.settings);
    }
}

/// Classifies a message by what the store counted while it was unpacked.
fn classify(
    before: rua_store::RunCounts,
    after: rua_store::RunCounts,
    n_not_report: u64,
) -> Handled {
    let n_rejects = after.n_rejects - before.n_rejects;
    let n_reports = (after.n_reports_new - before.n_reports_new)
        + (after.n_duplicates - before.n_duplicates)
        + (after.n_conflicts - before.n_conflicts)
        + (after.n_other - before.n_other);
    if n_rejects > n_not_report {
        Handled::Rejected
    } else if n_reports > 0 {
        Handled::Report
    } else {
        Handled::NoReport
    }
}

/// A failure while reading one mailbox: the store's are fatal, the server's are not.
#[derive(Debug, thiserror::Error)]
enum MailboxError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Imap(#[from] ImapError),
}

impl From<StoreError> for MailboxError {
    fn from(e: StoreError) -> Self {
        MailboxError::Ingest(e.into())
    }
}

/// Records a message over the size limit as a reject without downloading it.
fn reject_oversized(
    store: &mut Store,
    source: &str,
    size: u32,
    limit: u64,
) -> Result<(), StoreError> {
    let reason = format!(
        "message of {size} bytes is larger than the limit of {limit} bytes; left on the server"
    );
    tracing::warn!("rejected {source}: {reason}");
    let row = RejectRow {
        payload_kind: "container".to_owned(),
        reason_code: "limit_message".to_owned(),
        reason,
        origin: Origin {
            source: source.to_owned(),
            chain: "message".to_owned(),
            ..Origin::default()
        },
    };
    store.reject(row, Content::not_kept(source, u64::from(size)))?;
    Ok(())
}

/// The folder being read: its settings, state key and UIDVALIDITY.
struct Folder<'a> {
    account: &'a Account,
    location: &'a str,
    uid_validity: u32,
}

/// Applies the after-actions to a committed batch, then records its highest UID.
fn act_and_record(
    store: &mut Store,
    client: &mut Client,
    folder: &Folder<'_>,
    handled: &[(u32, Handled)],
    last_uid: u32,
) -> Result<(), MailboxError> {
    let account = folder.account;
    for (kind, action) in [
        (Handled::Report, &account.after.report),
        (Handled::Rejected, &account.after.rejected),
        (Handled::NoReport, &account.after.no_report),
    ] {
        let uids: Vec<u32> = handled
            .iter()
            .filter(|(_, h)| *h == kind)
            .map(|(uid, _)| *uid)
            .collect();
        if *action != Action::Leave && !uids.is_empty() {
            client.apply(action, &uids)?;
        }
    }
    let state = FolderState {
        uid_validity: folder.uid_validity,
        last_uid,
    };
    store.set_folder_state(folder.location, state)?;
    Ok(())
}

/// Reads one folder through `client` into `store`, batch by batch.
fn read_folder(
    store: &mut Store,
    client: &mut Client,
    account: &Account,
    limits: &Bounds,
    stop: &AtomicBool,
) -> Result<Pass, MailboxError> {
    let location = account.location();
    let status = client.select(&account.folder, account.read_only)?;
    let last_uid = match store.folder_state(&location)? {
        Some(s) if s.uid_validity == status.uid_validity => s.last_uid,
        Some(s) => {
            tracing::warn!(
                "{location}: UIDVALIDITY changed from {} to {}; reading the whole folder again (duplicates are recognized)",
                s.uid_validity,
                status.uid_validity
            );
            0
        }
        None => 0,
    };
    let waiting = if status.n_messages == 0 {
        Vec::new()
    } else {
        client.list_after(last_uid)?
    };
    if !waiting.is_empty() {
        tracing::info!("{location}: {} new messages", waiting.len());
    }
    let mut pass = Pass::default();
    let folder = Folder {
        account,
        location: &location,
        uid_validity: status.uid_validity,
    };
    // The batch read last, waiting for its commit before its actions.
    let mut uncommitted: Option<(Vec<(u32, Handled)>, u32)> = None;
    for batch in waiting.chunks(account.batch_size) {
        if stop.load(Ordering::Relaxed) {
            tracing::info!("{location}: stopping before the next batch");
            break;
        }
        let mut handled: Vec<(u32, Handled)> = Vec::with_capacity(batch.len());
        let mut to_fetch = Vec::with_capacity(batch.len());
        for m in batch {
            if u64::from(m.size) > limits.unpack.max_message_bytes {
                let source = format!(
                    "{location};UIDVALIDITY={};UID={}",
                    status.uid_validity, m.uid
                );
                reject_oversized(store, &source, m.size, limits.unpack.max_message_bytes)?;
                handled.push((m.uid, Handled::Rejected));
            } else {
                to_fetch.push(m.uid);
            }
        }
        let fetched = client.fetch(&to_fetch, |uid, bytes| {
            let source = format!("{location};UIDVALIDITY={};UID={uid}", status.uid_validity);
            let before = store.counts();
            let mut visitor = Ingest::new(store, None, *limits);
            rua_unpack::unpack_message(&source, bytes, &limits.unpack, &mut visitor)?;
            let n_not_report = visitor.n_not_report;
            handled.push((uid, classify(before, store.counts(), n_not_report)));
            Ok::<_, IngestError>(())
        })?;
        fetched?;
        pass.count(&handled);
        // This batch goes to the writer; the one before is durable once this returns, so
        // only now is it acted on (the server reads the next batch while this one commits).
        store.hand_over()?;
        if let Some((done, last_uid)) = uncommitted.take() {
            act_and_record(store, client, &folder, &done, last_uid)?;
        }
        if let Some(last) = batch.last() {
            uncommitted = Some((handled, last.uid));
        }
    }
    store.commit()?;
    if let Some((done, last_uid)) = uncommitted.take() {
        act_and_record(store, client, &folder, &done, last_uid)?;
    }
    Ok(pass)
}

/// One pass over `accounts` (cron). Store errors are returned; a mailbox that fails is
/// counted and the others are still read.
pub fn fetch_once(
    target: &Target<'_>,
    accounts: &[Account],
    stop: &AtomicBool,
) -> anyhow::Result<Pass> {
    let mut store = crate::settings::open_store(target.db, &target.options)?;
    store.start_run("fetch")?;
    let mut total = Pass::default();
    let mut fatal = None;
    for account in accounts {
        let pass = match Client::connect(account) {
            Ok(mut client) => {
                let result = read_folder(&mut store, &mut client, account, &target.limits, stop);
                client.logout();
                match result {
                    Ok(pass) => pass,
                    Err(MailboxError::Ingest(e)) => {
                        fatal = Some(e);
                        break;
                    }
                    Err(MailboxError::Imap(e)) => {
                        tracing::error!("mailbox {}: {e}", account.name);
                        Pass {
                            n_failed: 1,
                            ..Pass::default()
                        }
                    }
                }
            }
            // No session (address, certificate, credentials): the mailbox is unreachable,
            // and when every one is, rua exits with "cannot connect".
            Err(e) if e.is_connect() => {
                tracing::error!("mailbox {}: {e}", account.name);
                Pass {
                    n_unreachable: 1,
                    ..Pass::default()
                }
            }
            // Reached, but it failed on the way in (a timeout, the server's error): read
            // again next time.
            Err(e) => {
                tracing::error!("mailbox {}: {e}", account.name);
                Pass {
                    n_failed: 1,
                    ..Pass::default()
                }
            }
        };
        total.add(pass);
    }
    let is_failed = fatal.is_some() || total.n_failed > 0 || total.n_unreachable > 0;
    let counts = store.finish_run(is_failed)?;
    if let Some(e) = fatal {
        return Err(e.into());
    }
    target.after_commit(&mut store, &counts);
    if total.n_messages > 0 {
        tracing::info!("{} messages: {}", total.n_messages, summary_line(&counts));
    }
    Ok(total)
}

/// Sleeps for `duration` unless `stop` is raised first.
fn pause(duration: Duration, stop: &AtomicBool) {
    let deadline = std::time::Instant::now() + duration;
    while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Watches one mailbox until `stop`: a pass, then IDLE (or a poll interval), again and
/// again; reconnects with exponential backoff after any server error. The database is
/// opened for each pass only (under `db_turn`, one mailbox at a time), so queries and cron
/// ingests can use it in between.
fn watch_mailbox(
    target: &Target<'_>,
    account: &Account,
    db_turn: &Mutex<()>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut backoff = Duration::from_secs(1);
    let mut client: Option<Client> = None;
    while !stop.load(Ordering::Relaxed) {
        let connected = match client.take() {
            Some(c) => Ok(c),
            None => Client::connect(account).inspect(|c| {
                if !c.has_idle() {
                    tracing::info!(
                        "mailbox {}: the server has no IDLE; polling every {} s",
                        account.name,
                        account.poll_secs
                    );
                }
            }),
        };
        let mut c = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(
                    "mailbox {}: {e}; retrying in {} s",
                    account.name,
                    backoff.as_secs()
                );
                pause(backoff, stop);
                backoff = (backoff * 2).min(Duration::from_secs(300));
                continue;
            }
        };
        let result = {
            let _turn = db_turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut store = crate::settings::open_store(target.db, &target.options)?;
            store.start_run(&format!("fetch --watch {}", account.name))?;
            let result = read_folder(&mut store, &mut c, account, &target.limits, stop);
            let counts = store.finish_run(result.is_err())?;
            target.after_commit(&mut store, &counts);
            result
        };
        let result = match result {
            Ok(pass) => {
                if pass.n_messages > 0 {
                    tracing::info!(
                        "mailbox {}: {} messages handled",
                        account.name,
                        pass.n_messages
                    );
                }
                backoff = Duration::from_secs(1);
                c.idle(
                    Duration::from_secs(account.idle_secs.max(1)),
                    Duration::from_secs(account.poll_secs.max(1)),
                    stop,
                )
                .map_err(MailboxError::from)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(IdleOutcome::Changed | IdleOutcome::Timeout) => client = Some(c),
            Ok(IdleOutcome::Stopped) => c.logout(),
            Err(MailboxError::Ingest(e)) => return Err(e.into()),
            Err(MailboxError::Imap(e)) => {
                tracing::warn!(
                    "mailbox {}: {e}; reconnecting in {} s",
                    account.name,
                    backoff.as_secs()
                );
                pause(backoff, stop);
                backoff = (backoff * 2).min(Duration::from_secs(300));
            }
        }
    }
    Ok(())
}

/// Watches every mailbox (one thread each) until SIGTERM or SIGINT raises `stop`.
pub fn watch(target: &Target<'_>, accounts: &[Account], stop: &AtomicBool) -> anyhow::Result<()> {
    let db_turn = Mutex::new(());
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = accounts
            .iter()
            .map(|account| {
                let db_turn = &db_turn;
                scope.spawn(move || {
                    let result = watch_mailbox(target, account, db_turn, stop);
                    if result.is_err() {
                        // A store failure ends the watch for every mailbox.
                        stop.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a watcher thread panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rua_store::RunCounts;

    #[test]
    fn a_message_is_rejected_if_anything_but_a_non_report_was_rejected() {
        let before = RunCounts::default();
        let with = |f: fn(&mut RunCounts)| {
            let mut c = RunCounts::default();
            f(&mut c);
            c
        };
        let report = with(|c| c.n_reports_new = 1);
        assert_eq!(classify(before, report, 0), Handled::Report);
        let duplicate = with(|c| c.n_duplicates = 2);
        assert_eq!(classify(before, duplicate, 0), Handled::Report);
        let tls = with(|c| c.n_other = 1);
        assert_eq!(classify(before, tls, 0), Handled::Report);
        // The text part of a report mail is a not_report payload: still a report mail.
        let with_text = with(|c| {
            c.n_reports_new = 1;
            c.n_rejects = 1;
        });
        assert_eq!(classify(before, with_text, 1), Handled::Report);
        let broken = with(|c| {
            c.n_reports_new = 1;
            c.n_rejects = 2;
        });
        assert_eq!(classify(before, broken, 1), Handled::Rejected);
        let newsletter = with(|c| c.n_rejects = 1);
        assert_eq!(classify(before, newsletter, 1), Handled::NoReport);
    }
}
