//! Reverse DNS with forward confirmation.
//!
//! For each address: its PTR names, then an A (or AAAA) lookup of each name until one resolves
//! back to the address (the name is then *confirmed*: whoever controls the address's reverse
//! zone can write any name there, but only the name's owner can point it back). Lookups run on
//! a Tokio runtime in a thread of their own, at most `max_in_flight` addresses at once and
//! `rate_limit` started per second; answers come back through a channel in the order they
//! arrive, so the caller stores them while the rest are still in flight.

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData};

use crate::{Config, EnrichError};

/// Names checked for forward confirmation, at most, per address.
const MAX_NAMES_CONFIRMED: usize = 4;

/// What the lookup of one address came to. Only answers ([`Status::is_answer`]) are kept as
/// such; the others are looked up again on the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// One or more PTR names.
    Ok,
    /// The reverse name does not exist.
    NxDomain,
    /// The reverse name exists but has no PTR record.
    NoRecords,
    /// No answer in time (from the PTR lookup or a confirming one).
    Timeout,
    /// The server failed (SERVFAIL, REFUSED and the like).
    ServFail,
    /// Anything else (no server reachable, a malformed answer).
    Error,
    /// A loopback, private, link-local or otherwise non-global address: never asked
    /// (the public DNS has nothing to say about it, and the question would leak it).
    Private,
    /// Not looked up yet: offline, or the address is new.
    #[default]
    NotLookedUp,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Ok,
        Status::NxDomain,
        Status::NoRecords,
        Status::Timeout,
        Status::ServFail,
        Status::Error,
        Status::Private,
        Status::NotLookedUp,
    ];

    /// The stored code (`ip_info.status`).
    pub fn code(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NxDomain => "nxdomain",
            Status::NoRecords => "no_records",
            Status::Timeout => "timeout",
            Status::ServFail => "servfail",
            Status::Error => "error",
            Status::Private => "private",
            Status::NotLookedUp => "not_looked_up",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// An answer from the DNS, kept until it is old; the rest is asked again next run.
    pub fn is_answer(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::NxDomain | Status::NoRecords | Status::Private
        )
    }
}

/// Whether the public DNS can say anything about `ip`: not loopback, private (RFC 1918,
/// RFC 4193), shared (RFC 6598), link-local, unspecified, multicast or broadcast. The
/// documentation ranges count as public: rua's tests and samples use them.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_global(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The DNS part of an address's facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DnsAnswer {
    pub status: Status,
    /// Every PTR name, lower case without the trailing dot, in the order received.
    pub names: Vec<String>,
    /// The first confirmed name, or else the first name.
    pub ptr: Option<String>,
    /// Whether `ptr` resolves back to the address; None when there is no name, or the
    /// confirming lookups did not answer.
    pub is_confirmed: Option<bool>,
    /// Seconds since the Unix epoch of the lookup; None when not looked up.
    pub looked_up_at: Option<i64>,
}

/// A resolver for many addresses.
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    options: ResolverOpts,
    max_in_flight: usize,
    rate_limit: u32,
}

/// `address:port`, `[v6]:port` or a bare address (port 53).
fn name_server(text: &str) -> Result<SocketAddr, EnrichError> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| EnrichError::Nameserver(text.to_owned()))
}

impl Resolver {
    /// The configured name servers, or the system's (`/etc/resolv.conf`).
    pub fn new(config: &Config) -> Result<Resolver, EnrichError> {
        let (resolver_config, mut options) = if config.nameservers.is_empty() {
            hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| EnrichError::SystemConfig(e.to_string()))?
        } else {
            let servers = config
                .nameservers
                .iter()
                .map(|text| {
                    let addr = name_server(text)?;
                    // UDP only: after a UDP timeout hickory would try TCP too, doubling
                    // the cost of a dead server (PTR answers fit in a datagram).
                    let mut server = NameServerConfig::udp(addr.ip());
                    for connection in &mut server.connections {
                        connection.port = addr.port();
                    }
                    Ok(server)
                })
                .collect::<Result<Vec<_>, EnrichError>>()?;
            (
                ResolverConfig::from_name_servers(servers),
                ResolverOpts::default(),
            )
        };
        options.timeout = config.timeout();
        // A timeout is retried on the next run, not now: no retry (hickory's `attempts`
        // counts retries) keeps a dead server from costing twice the timeout per address.
        options.attempts = 0;
        options.max_active_requests = config.max_in_flight().saturating_mul(4).max(32);
        // rua keeps what it learns in the database; the resolver's own cache only has to
        // serve the forward lookups of names shared by many addresses.
        options.cache_size = 4_096;
        Ok(Resolver {
            config: resolver_config,
            options,
            max_in_flight: config.max_in_flight(),
            rate_limit: config.rate_limit(),
        })
    }

    /// Looks up every address in `ips`, handing each answer to `each` as it arrives.
    /// `each` returns false to stop: the lookups in flight are abandoned. The addresses are
    /// asked in an order spread over the address space, so that one slow reverse zone is
    /// not met all at once.
    pub fn lookup_all(
        &self,
        mut ips: Vec<IpAddr>,
        mut each: impl FnMut(IpAddr, DnsAnswer) -> bool,
    ) -> Result<(), EnrichError> {
        ips.sort_by_cached_key(|ip| crate::fnv(crate::FNV_START, ip.to_string().as_bytes()));
        let (tx, rx) = mpsc::sync_channel::<(IpAddr, DnsAnswer)>(1024);
        let config = self.config.clone();
        let options = self.options.clone();
        let max_in_flight = self.max_in_flight;
        let period = (self.rate_limit > 0).then(|| Duration::from_secs(1) / self.rate_limit);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(EnrichError::Runtime)?;
        let thread = std::thread::Builder::new()
            .name("rua-dns".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let resolver =
                        TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
                            .with_options(options)
                            .build();
                    let resolver = match resolver {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!("cannot start the DNS resolver: {e}");
                            for ip in ips {
                                let answer = DnsAnswer {
                                    status: Status::Error,
                                    ..DnsAnswer::default()
                                };
                                if tx.send((ip, answer)).is_err() {
                                    break;
                                }
                            }
                            return;
                        }
                    };
                    let ticks = period.map(|p| {
                        let mut t = tokio::time::interval(p);
                        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                        t
                    });
                    let paced = futures_util::stream::unfold(
                        (ips.into_iter(), ticks),
                        |(mut it, mut ticks)| async move {
                            let ip = it.next()?;
                            if let Some(t) = ticks.as_mut() {
                                t.tick().await;
                            }
                            Some((ip, (it, ticks)))
                        },
                    );
                    let mut answers = std::pin::pin!(
                        paced
                            .map(|ip| {
                                let resolver = resolver.clone();
                                async move { (ip, lookup(&resolver, ip).await) }
                            })
                            .buffer_unordered(max_in_flight)
                    );
                    while let Some(item) = answers.next().await {
                        if tx.send(item).is_err() {
                            break;
                        }
                    }
                });
            })
            .map_err(EnrichError::Runtime)?;
        for (ip, answer) in rx.iter() {
            if !each(ip, answer) {
                break;
            }
        }
        // Dropping the receiver (on return) stops the thread at its next answer.
        drop(rx);
        let _ = thread.join();
        Ok(())
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The status an error stands for.
fn status_of(error: &NetError) -> Status {
    match error {
        NetError::Timeout => Status::Timeout,
        NetError::Dns(DnsError::NoRecordsFound(no)) => match no.response_code {
            ResponseCode::NXDomain => Status::NxDomain,
            ResponseCode::NoError => Status::NoRecords,
            _ => Status::ServFail,
        },
        NetError::Dns(DnsError::ResponseCode(_)) => Status::ServFail,
        _ => {
            // hickory reports a dead server's silence in several shapes.
            let text = error.to_string();
            if text.contains("timed out") || text.contains("timeout") {
                Status::Timeout
            } else {
                Status::Error
            }
        }
    }
}

fn name_text(name: &Name) -> String {
    let mut text = name.to_ascii().to_ascii_lowercase();
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// Whether `name` resolves to `ip`: Ok(bool), or the status of a lookup that did not answer.
async fn resolves_to(resolver: &TokioResolver, name: &str, ip: IpAddr) -> Result<bool, Status> {
    let fqdn = format!("{name}.");
    let lookup = match ip {
        IpAddr::V4(_) => resolver.ipv4_lookup(fqdn.as_str()).await,
        IpAddr::V6(_) => resolver.ipv6_lookup(fqdn.as_str()).await,
    };
    match lookup {
        Ok(found) => Ok(found.answers().iter().any(|r| match &r.data {
            RData::A(a) => IpAddr::V4(a.0) == ip,
            RData::AAAA(a) => IpAddr::V6(a.0) == ip,
            _ => false,
        })),
        Err(e) => match status_of(&e) {
            // A name that does not exist or has no address does not confirm.
            Status::NxDomain | Status::NoRecords => Ok(false),
            other => Err(other),
        },
    }
}

/// Looks up one address.
pub async fn lookup(resolver: &TokioResolver, ip: IpAddr) -> DnsAnswer {
    let looked_up_at = Some(now());
    if !is_global(ip) {
        return DnsAnswer {
            status: Status::Private,
            looked_up_at,
            ..DnsAnswer::default()
        };
    }
    let names: Vec<String> = match resolver.reverse_lookup(Name::from(ip)).await {
        Ok(found) => found
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(ptr) => Some(name_text(&ptr.0)),
                _ => None,
            })
            .filter(|n| !n.is_empty())
            .collect(),
        Err(e) => {
            return DnsAnswer {
                status: status_of(&e),
                looked_up_at,
                ..DnsAnswer::default()
            };
        }
    };
    if names.is_empty() {
        return DnsAnswer {
            status: Status::NoRecords,
            looked_up_at,
            ..DnsAnswer::default()
        };
    }
    let mut unanswered = None;
    let mut confirmed = None;
    for name in names.iter().take(MAX_NAMES_CONFIRMED) {
        match resolves_to(resolver, name, ip).await {
            Ok(true) => {
                confirmed = Some(name.clone());
                break;
            }
            Ok(false) => {}
            Err(status) => unanswered = unanswered.or(Some(status)),
        }
    }
    let (status, is_confirmed, ptr) = match (confirmed, unanswered) {
        (Some(name), _) => (Status::Ok, Some(true), name),
        // Not confirmed because a lookup did not answer: not an answer, asked again.
        (None, Some(status)) => (status, None, names[0].clone()),
        (None, None) => (Status::Ok, Some(false), names[0].clone()),
    };
    DnsAnswer {
        status,
        names,
        ptr: Some(ptr),
        is_confirmed,
        looked_up_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_parse_with_or_without_a_port() {
        assert_eq!(
            name_server("127.0.0.1:5353").ok(),
            "127.0.0.1:5353".parse().ok()
        );
        assert_eq!(name_server("192.0.2.53").ok(), "192.0.2.53:53".parse().ok());
        assert_eq!(name_server("[::1]:5353").ok(), "[::1]:5353".parse().ok());
        assert!(name_server("dns.example").is_err());
    }

    #[test]
    fn only_answers_are_kept() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
        let kept: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_answer()).collect();
        assert_eq!(
            kept,
            [
                Status::Ok,
                Status::NxDomain,
                Status::NoRecords,
                Status::Private
            ]
        );
    }

    #[test]
    fn private_addresses_are_never_asked() {
        let global = |s: &str| is_global(s.parse().unwrap_or(IpAddr::from([0; 4])));
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.0.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!global(private), "{private}");
        }
        for public in [
            "192.0.2.1",
            "198.51.100.7",
            "8.8.8.8",
            "2001:db8::1",
            "2a00:1450::1",
        ] {
            assert!(global(public), "{public}");
        }
    }
}
