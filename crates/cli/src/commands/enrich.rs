//! `rua enrich`: who sent it. For each source address not known yet (or whose answer is old,
//! or was no answer): reverse DNS with forward confirmation, network and country from the
//! configured IP databases, and a named sender; then the senders that passing DKIM
//! signatures name. `rua ingest` and `rua fetch` run it after their commit.
//!
//! Answers are committed as they arrive, a few hundred at a time, so a killed run loses at
//! most the lookups in flight; the next run asks only for what is missing.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rua_enrich::{DnsAnswer, Facts, IpDatabases, Resolver, SenderMap, Status};
use rua_store::{EnrichTodo, IpInfo, SenderRow, Store, TodoFilter};

use crate::exit;
use crate::settings::{Settings, open_store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// No DNS at all: only the IP databases and the sender rules.
    #[arg(long, env = "RUA_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    offline: bool,
}

/// Records per transaction when older records get their DKIM signer.
const BACKFILL_RECORDS: i64 = 200_000;

/// Records per transaction when records get their sender and class stored.
const CLASSIFY_RECORDS: i64 = 200_000;

/// `enrich_state`: the newest report whose addresses a complete run saw.
const RECORDS_THROUGH: &str = "records_through";

/// The flags `rua ingest` and `rua fetch` take for the enrichment after their commit.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct AfterIngest {
    /// Do not enrich the new source addresses after the commit (run `rua enrich` later).
    #[arg(long)]
    pub no_enrich: bool,
    /// Enrich without DNS (only the IP databases and the sender rules).
    #[arg(long, env = "RUA_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,
}

/// DNS answers stored per transaction, at most; a second's worth when they come slowly.
const SAVE_EVERY: usize = 500;
const SAVE_AFTER: Duration = Duration::from_secs(1);
/// Rows per transaction for what needs no DNS (a first enrichment of millions of addresses:
/// a commit per 500 cost more than the rows).
const SAVE_EVERY_OFFLINE: usize = 50_000;

/// What one enrichment did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Addresses whose row was written.
    pub n_addresses: u64,
    /// Of those, looked up in the DNS.
    pub n_looked_up: u64,
    /// Of those, with no answer (timeout, server failure): asked again next run.
    pub n_unanswered: u64,
    /// Signing domains with a named sender.
    pub n_dkim_senders: u64,
    /// Records whose sender and class were stored (new, or what decides them changed).
    pub n_classified: i64,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let mut store = open_store(&settings.db, &settings.options(false, settings.keep_raw))?;
    let counts = enrich(&mut store, &settings.config.enrich, args.offline)?;
    report(&counts);
    let statuses: Vec<String> = store
        .ip_status_counts()?
        .into_iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    tracing::info!("source addresses by lookup status: {}", statuses.join(", "));
    Ok(exit::OK)
}

/// After an ingest or fetch that stored new records: enrich, and turn any failure into a
/// warning (the reports are committed; the next run enriches what is missing).
pub fn after_ingest(store: &mut Store, settings: &Settings, flags: AfterIngest, n_records: u64) {
    if flags.no_enrich || n_records == 0 {
        return;
    }
    match enrich(store, &settings.config.enrich, flags.offline) {
        Ok(counts) => report(&counts),
        Err(e) => {
            tracing::warn!("enrichment failed (the reports are stored; run `rua enrich`): {e:#}")
        }
    }
}

fn report(counts: &Counts) {
    tracing::info!(
        "enriched {} addresses ({} looked up in the DNS), {} DKIM signing domains named, {} records classified",
        counts.n_addresses,
        counts.n_looked_up,
        counts.n_dkim_senders,
        counts.n_classified
    );
    if counts.n_unanswered > 0 {
        tracing::warn!(
            "{} of {} DNS lookups got no answer (timeout or server failure): they are asked again on the next run",
            counts.n_unanswered,
            counts.n_looked_up
        );
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens the configured IP databases, warning about the missing, damaged and stale ones;
/// with their description (path, type, build date) for `enrich_state`.
fn open_databases(config: &rua_enrich::Config) -> (IpDatabases, String) {
    let (databases, errors) = IpDatabases::open(&config.ip_databases);
    for e in errors {
        tracing::warn!("{e}; enrichment goes on without it");
    }
    let now = now_secs();
    let mut described = Vec::new();
    for info in databases.info() {
        let age = info.age_days(now);
        if age > rua_enrich::mmdb::STALE_AFTER_DAYS {
            tracing::warn!(
                "IP database {} ({}) was built {age} days ago: networks move, get a newer copy",
                info.path.display(),
                info.database_type
            );
        }
        described.push(format!(
            "{} ({}, built {})",
            info.path.display(),
            info.database_type,
            rua_enrich::mmdb::date_text(info.build_epoch)
        ));
    }
    (databases, described.join(","))
}

fn sender_row(s: &rua_enrich::Sender) -> SenderRow {
    SenderRow {
        name: s.name.clone(),
        kind: s.kind.code().to_owned(),
        rule: s.rule.code().to_owned(),
        confidence: s.confidence.code().to_owned(),
    }
}

/// An address's facts as stored.
fn row(facts: &Facts) -> IpInfo {
    IpInfo {
        ip: facts.ip.clone(),
        ptr: facts.dns.ptr.clone(),
        ptr_names: facts.dns.names.clone(),
        ptr_confirmed: facts.dns.is_confirmed,
        ptr_org_domain: facts.ptr_org_domain().map(str::to_owned),
        status: facts.dns.status.code().to_owned(),
        looked_up_at: facts.dns.looked_up_at,
        asn: facts.network.asn,
        as_name: facts.network.as_name.clone(),
        as_domain: facts.network.as_domain.clone(),
        country: facts.network.country.clone(),
        ip_databases: (!facts.network.sources.is_empty()).then(|| facts.network.sources.join(",")),
        sender: facts.sender.as_ref().map(sender_row),
    }
}

/// The DNS part already stored for an address.
fn known_dns(todo: &EnrichTodo) -> DnsAnswer {
    todo.known
        .as_ref()
        .map_or_else(DnsAnswer::default, |k| DnsAnswer {
            status: Status::from_code(&k.status).unwrap_or_default(),
            names: k.ptr_names.clone(),
            ptr: k.ptr.clone(),
            is_confirmed: k.ptr_confirmed,
            looked_up_at: k.looked_up_at,
        })
}

/// Collects rows and stores them a batch at a time.
struct Saver<'s> {
    store: &'s mut Store,
    rows: Vec<IpInfo>,
    since: Instant,
    counts: Counts,
    /// Rows per transaction, and the longest a row waits for its commit.
    batch: usize,
    wait: Duration,
}

impl Saver<'_> {
    /// Adds a row; `looked_up` is the status of its DNS lookup in this run, if it had one.
    fn push(&mut self, row: IpInfo, looked_up: Option<Status>) -> anyhow::Result<()> {
        self.counts.n_addresses += 1;
        if let Some(status) = looked_up {
            self.counts.n_looked_up += 1;
            if !status.is_answer() {
                self.counts.n_unanswered += 1;
            }
        }
        self.rows.push(row);
        if self.rows.len() >= self.batch || self.since.elapsed() >= self.wait {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if !self.rows.is_empty() {
            self.store.save_ip_info(&self.rows)?;
            self.rows.clear();
        }
        self.since = Instant::now();
        Ok(())
    }
}

/// Enriches what is missing, stale or unanswered (everything, when the IP databases or the
/// sender rules changed since the last run).
pub fn enrich(
    store: &mut Store,
    config: &rua_enrich::Config,
    offline: bool,
) -> anyhow::Result<Counts> {
    let map = SenderMap::new(&config.senders).context("invalid [enrich] sender rules")?;
    let backfilled = store.backfill_dkim_signers(BACKFILL_RECORDS)?;
    if backfilled > 0 {
        tracing::info!("found the DKIM signer of {backfilled} records stored by an older rua");
    }
    let (databases, described) = open_databases(config);
    // A new rua may read the same files or rules differently: its version is part of it.
    let fingerprint = format!(
        "rua {}; rules {:016x}; databases {described}",
        env!("CARGO_PKG_VERSION"),
        map.fingerprint()
    );
    let is_all = store.enrich_state("fingerprint")?.as_deref() != Some(fingerprint.as_str());
    let is_online = !offline && !config.offline;
    let resolver = if is_online {
        match Resolver::new(config) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("{e}: no DNS lookups this run");
                None
            }
        }
    } else {
        None
    };
    // Where the last complete run got to: only newer reports can hold unseen addresses.
    let records_through = store.max_record_report_key()?;
    let records_after = store
        .enrich_state(RECORDS_THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let todo = store.enrich_todo(TodoFilter {
        is_all,
        is_online: resolver.is_some(),
        max_age_secs: i64::from(config.max_age_days()) * 86_400,
        records_after,
    })?;
    let facts_of = |ip: &str, dns: DnsAnswer| {
        let network = rua_enrich::parse_ip(ip)
            .map(|addr| databases.lookup(addr))
            .unwrap_or_default();
        let mut facts = Facts {
            ip: ip.to_owned(),
            dns,
            network,
            sender: None,
        };
        facts.sender = map.for_ip(&facts);
        facts
    };
    let mut saver = Saver {
        store,
        rows: Vec::new(),
        since: Instant::now(),
        counts: Counts::default(),
        batch: SAVE_EVERY_OFFLINE,
        wait: Duration::MAX,
    };
    // First what needs no DNS, then the lookups, stored as they are answered.
    let mut lookups: Vec<IpAddr> = Vec::new();
    for t in &todo {
        match (&resolver, t.needs_dns, rua_enrich::parse_ip(&t.ip)) {
            (Some(_), true, Some(addr)) => lookups.push(addr),
            _ => saver.push(row(&facts_of(&t.ip, known_dns(t))), None)?,
        }
    }
    saver.flush()?;
    // Every address now reflects these rules and files; the lookups below use them too.
    if is_all {
        saver.store.set_enrich_state("fingerprint", &fingerprint)?;
    }
    if let Some(resolver) = &resolver
        && !lookups.is_empty()
    {
        // Answers are committed as they come: a killed run loses only those in flight.
        saver.batch = SAVE_EVERY;
        saver.wait = SAVE_AFTER;
        let mut failure = None;
        resolver.lookup_all(lookups, |addr, answer| {
            let status = answer.status;
            let facts = facts_of(&addr.to_string(), answer);
            match saver.push(row(&facts), Some(status)) {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        saver.flush()?;
    }
    let mut counts = saver.counts;
    let dkim: Vec<(String, SenderRow)> = store
        .dkim_signers()?
        .into_iter()
        .filter_map(|domain| {
            let sender = sender_row(&map.for_dkim_domain(&domain)?);
            Some((domain, sender))
        })
        .collect();
    counts.n_dkim_senders = dkim.len() as u64;
    store.replace_dkim_senders(&dkim)?;
    store.replace_source_overrides(&rua_enrich::SourceVerdict::rows(&config.sources))?;
    store.set_enrich_state(RECORDS_THROUGH, &records_through.to_string())?;
    // Last, when everything that decides a record's class is stored.
    counts.n_classified = classify(store)?;
    Ok(counts)
}

/// Stores the sender and class of every record that has none (see
/// [`Store::classify_records`]); returns how many.
pub fn classify(store: &mut Store) -> anyhow::Result<i64> {
    Ok(store.classify_records(CLASSIFY_RECORDS)?)
}
