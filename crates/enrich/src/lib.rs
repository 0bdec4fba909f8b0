//! Who sent it: for each source address of a report, its reverse DNS name (and whether the
//! name resolves back to the address), its network and country from IP databases the user
//! points to, and a named sender with a type, the rule that decided it and a confidence.
//!
//! This is the only crate that speaks DNS. It knows nothing of the database: the CLI hands it
//! the addresses to look up and stores what it answers ([`Facts`]), after ingest, never on the
//! parse path.
//!
//! - [`dns`]: PTR, then A/AAAA for each name (forward confirmation), concurrently with a bound
//!   on lookups in flight, a timeout and a rate limit.
//! - [`mmdb`]: ASN, AS name, AS domain and country from IPinfo Lite, MaxMind GeoLite2 or
//!   DB-IP Lite files, each schema mapped to the same fields.
//! - [`senders`]: the sender rules, in order: the user's own, DKIM signing domains, the
//!   forward-confirmed PTR's organizational domain, the AS domain, the AS name.

pub mod dns;
pub mod mmdb;
pub mod senders;

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

pub use dns::{DnsAnswer, Resolver, Status};
pub use mmdb::{IpDatabases, Network};
pub use senders::{Confidence, Rule, Sender, SenderMap, SenderRule, SenderType};

/// The `[enrich]` section of rua's configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// No DNS at all (IP databases and sender rules still apply).
    #[serde(default)]
    pub offline: bool,
    /// Name servers as `address:port` (or an address, port 53); the system's configuration
    /// (`/etc/resolv.conf`) when empty.
    #[serde(default)]
    pub nameservers: Vec<String>,
    /// MMDB files (IPinfo Lite, GeoLite2 ASN/Country, DB-IP Lite), in order of preference.
    #[serde(default)]
    pub ip_databases: Vec<PathBuf>,
    /// Seconds to wait for one DNS answer (default 2).
    pub timeout_secs: Option<f64>,
    /// Addresses looked up at once (default 512; each holds a UDP socket).
    pub max_in_flight: Option<usize>,
    /// Addresses started per second at most (default 5,000; 0 for no limit).
    pub rate_limit: Option<u32>,
    /// Days after which an answer is looked up again (default 30).
    pub max_age_days: Option<u32>,
    /// The user's own senders, before every other rule.
    #[serde(default, rename = "sender")]
    pub senders: Vec<SenderRule>,
    /// The user's verdicts on named senders, for the source classes.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceVerdict>,
}

/// `[[enrich.source]]`: a named sender the owner declares authorized (its failing mail is
/// then `misconfigured`, to be fixed) or never authorized (`unauthorized`), for one policy
/// domain or every one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceVerdict {
    /// The sender's name as rua shows it (`rua summary --by sender`).
    pub sender: String,
    pub authorized: bool,
    /// A policy domain; every domain when absent.
    pub domain: Option<String>,
}

impl SourceVerdict {
    /// (policy domain, sender, authorized) as stored, the first verdict per domain and
    /// sender kept.
    pub fn rows(verdicts: &[SourceVerdict]) -> Vec<(Option<String>, String, bool)> {
        let mut rows: Vec<(Option<String>, String, bool)> = Vec::new();
        for v in verdicts {
            let domain = v
                .domain
                .as_deref()
                .map(|d| rua_align::normalize(d).into_owned());
            if !rows.iter().any(|(d, s, _)| *d == domain && *s == v.sender) {
                rows.push((domain, v.sender.clone(), v.authorized));
            }
        }
        rows
    }
}

impl Config {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.timeout_secs.unwrap_or(2.0).max(0.01))
    }
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(512).max(1)
    }
    pub fn rate_limit(&self) -> u32 {
        self.rate_limit.unwrap_or(5_000)
    }
    pub fn max_age_days(&self) -> u32 {
        self.max_age_days.unwrap_or(30)
    }
}

/// Everything known about one source address, as stored in `ip_info`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub ip: String,
    pub dns: DnsAnswer,
    pub network: Network,
    pub sender: Option<Sender>,
}

impl Facts {
    /// The organizational domain of the PTR name (Public Suffix List).
    pub fn ptr_org_domain(&self) -> Option<&str> {
        self.dns
            .ptr
            .as_deref()
            .map(rua_align::organizational_domain)
    }

    /// The same, only when the name is forward-confirmed and has a domain (a bare host
    /// name like `localhost` names nobody).
    pub fn confirmed_org_domain(&self) -> Option<&str> {
        self.ptr_org_domain()
            .filter(|d| self.dns.is_confirmed == Some(true) && d.contains('.'))
    }
}

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("name server {0:?} is not an address or address:port")]
    Nameserver(String),
    #[error("cannot read the system's resolver configuration: {0}")]
    SystemConfig(String),
    #[error("cannot start the DNS resolver: {0}")]
    Runtime(std::io::Error),
    #[error("IP database {path}: {reason}")]
    Database { path: PathBuf, reason: String },
    #[error("sender rule {name:?}: {reason}")]
    Rule { name: String, reason: String },
}

/// FNV-1a's offset basis, to start [`fnv`] with.
pub(crate) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a stable hash (the same in every run and version), for the rules' fingerprint
/// and the order of lookups.
pub(crate) fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Parses an address as rua stores it (records.source_ip).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}
