//! Naming the sender behind a source.
//!
//! Rules, strongest first (the first that names a sender decides):
//! 1. `config`: the user's own senders, by network (`networks`) or by domain (`domains`,
//!    matched against DKIM signing domains, confirmed PTR names and AS domains);
//! 2. `dkim`: a DKIM signing domain that passed for the record (cryptographic: only the
//!    domain's owner can sign), by the curated map in `data/senders.tsv`;
//! 3. `ptr`: the PTR name, only when it is forward-confirmed (anyone who controls an
//!    address's reverse zone can claim any name), by the map;
//! 4. `as_domain`: the domain of the network's owner, by the map;
//! 5. otherwise a confirmed PTR's organizational domain, or else the AS name, with type
//!    `unknown` and low confidence.
//!
//! DKIM is per record, the others per address: [`SenderMap::for_ip`] decides an address's
//! sender once (stored in `ip_info`), [`SenderMap::for_dkim_domain`] a signing domain's
//! (stored in `dkim_senders`), and the `report_records` view picks per record: a `config`
//! address rule, else the DKIM sender, else the address's.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::{EnrichError, Facts, fnv};

/// The curated map shipped with rua: `domain<TAB>name<TAB>type`, written by the project from
/// the senders' own public documentation.
pub const BUILTIN_MAP: &str = include_str!("../data/senders.tsv");

/// What kind of sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderType {
    /// A mailbox provider sending its users' mail (Google, Microsoft 365, Yahoo).
    EmailProvider,
    /// Bulk and newsletter platforms (Mailchimp, Klaviyo).
    Marketing,
    /// Transactional mail APIs (Amazon SES, SendGrid, Postmark).
    Transactional,
    /// CRM, helpdesk and business tools that mail for their customers (Salesforce, Zendesk).
    CrmHelpdesk,
    /// Filtering gateways that relay their customers' mail (Proofpoint, Mimecast).
    SecurityGateway,
    /// Forwarders and mailing lists (Google Groups, groups.io).
    Forwarder,
    Isp,
    Hosting,
    /// The domain owner's own infrastructure (from the configuration).
    Own,
    Unknown,
}

impl SenderType {
    pub const ALL: [SenderType; 10] = [
        SenderType::EmailProvider,
        SenderType::Marketing,
        SenderType::Transactional,
        SenderType::CrmHelpdesk,
        SenderType::SecurityGateway,
        SenderType::Forwarder,
        SenderType::Isp,
        SenderType::Hosting,
        SenderType::Own,
        SenderType::Unknown,
    ];

    /// The stored code (`sender_type`).
    pub fn code(self) -> &'static str {
        match self {
            SenderType::EmailProvider => "email_provider",
            SenderType::Marketing => "marketing",
            SenderType::Transactional => "transactional",
            SenderType::CrmHelpdesk => "crm_helpdesk",
            SenderType::SecurityGateway => "security_gateway",
            SenderType::Forwarder => "forwarder",
            SenderType::Isp => "isp",
            SenderType::Hosting => "hosting",
            SenderType::Own => "own",
            SenderType::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Option<SenderType> {
        SenderType::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// Which rule named the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Config,
    Dkim,
    Ptr,
    AsDomain,
    AsName,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::Config => "config",
            Rule::Dkim => "dkim",
            Rule::Ptr => "ptr",
            Rule::AsDomain => "as_domain",
            Rule::AsName => "as_name",
        }
    }
}

/// How sure rua is of a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn code(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A named sender and how it was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub kind: SenderType,
    pub rule: Rule,
    pub confidence: Confidence,
}

/// One of the user's senders (`[[enrich.sender]]` in the configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderRule {
    pub name: String,
    /// `own` unless said otherwise.
    #[serde(rename = "type")]
    pub kind: Option<SenderType>,
    /// Networks as `192.0.2.0/24` or single addresses.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Domains (and their subdomains) that sign for, name or own this sender's sources.
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    kind: SenderType,
    is_user: bool,
}

/// The rules: the user's, then the curated map.
#[derive(Debug, Clone, Default)]
pub struct SenderMap {
    networks: Vec<(IpNet, Entry)>,
    domains: HashMap<String, Entry>,
    fingerprint: u64,
}

fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Parses the map's text: `domain<TAB>name<TAB>type`, `#` comments, blank lines skipped.
fn parse_map(text: &str) -> Result<Vec<(String, Entry)>, EnrichError> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let bad = |reason: &str| EnrichError::Rule {
            name: format!("senders.tsv line {}", n + 1),
            reason: reason.to_owned(),
        };
        let [domain, name, kind] = fields[..] else {
            return Err(bad("expected domain, name and type separated by tabs"));
        };
        let kind = SenderType::from_code(kind).ok_or_else(|| bad("unknown type"))?;
        entries.push((
            domain.to_ascii_lowercase(),
            Entry {
                name: name.to_owned(),
                kind,
                is_user: false,
            },
        ));
    }
    Ok(entries)
}

impl SenderMap {
    /// The built-in map with the user's rules before it.
    pub fn new(user: &[SenderRule]) -> Result<SenderMap, EnrichError> {
        let mut map = SenderMap {
            fingerprint: fnv(crate::FNV_START, BUILTIN_MAP.as_bytes()),
            ..SenderMap::default()
        };
        for (domain, entry) in parse_map(BUILTIN_MAP)? {
            map.domains.insert(domain, entry);
        }
        for rule in user {
            let entry = Entry {
                name: rule.name.clone(),
                kind: rule.kind.unwrap_or(SenderType::Own),
                is_user: true,
            };
            map.fingerprint = fnv(map.fingerprint, rule.name.as_bytes());
            map.fingerprint = fnv(map.fingerprint, entry.kind.code().as_bytes());
            for text in &rule.networks {
                let net = parse_network(text).ok_or_else(|| EnrichError::Rule {
                    name: rule.name.clone(),
                    reason: format!("{text:?} is not a network (192.0.2.0/24) or an address"),
                })?;
                map.fingerprint = fnv(map.fingerprint, net.to_string().as_bytes());
                map.networks.push((net.trunc(), entry.clone()));
            }
            for domain in &rule.domains {
                let domain = rua_align::normalize(domain).into_owned();
                map.fingerprint = fnv(map.fingerprint, domain.as_bytes());
                map.domains.insert(domain, entry.clone());
            }
        }
        // The most specific network wins.
        map.networks
            .sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        Ok(map)
    }

    /// Changes when the map or the user's rules change.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The entry for `domain` or its closest parent domain.
    fn domain_entry(&self, domain: &str) -> Option<&Entry> {
        let domain = rua_align::normalize(domain);
        let mut rest: &str = &domain;
        loop {
            if let Some(entry) = self.domains.get(rest) {
                return Some(entry);
            }
            rest = rest.split_once('.')?.1;
            if !rest.contains('.') {
                return None;
            }
        }
    }

    fn sender(entry: &Entry, rule: Rule, confidence: Confidence) -> Sender {
        let (rule, confidence) = if entry.is_user {
            (Rule::Config, Confidence::High)
        } else {
            (rule, confidence)
        };
        Sender {
            name: entry.name.clone(),
            kind: entry.kind,
            rule,
            confidence,
        }
    }

    /// The sender a passing DKIM signature for `domain` names, if the map knows it.
    pub fn for_dkim_domain(&self, domain: &str) -> Option<Sender> {
        self.domain_entry(domain)
            .map(|e| Self::sender(e, Rule::Dkim, Confidence::High))
    }

    /// An address's sender from everything but DKIM.
    pub fn for_ip(&self, facts: &Facts) -> Option<Sender> {
        if let Some(ip) = crate::parse_ip(&facts.ip)
            && let Some((_, entry)) = self.networks.iter().find(|(net, _)| net.contains(&ip))
        {
            return Some(Self::sender(entry, Rule::Config, Confidence::High));
        }
        let confirmed = if facts.dns.is_confirmed == Some(true) {
            facts.dns.ptr.as_deref()
        } else {
            None
        };
        if let Some(entry) = confirmed.and_then(|name| self.domain_entry(name)) {
            return Some(Self::sender(entry, Rule::Ptr, Confidence::Medium));
        }
        if let Some(entry) = facts
            .network
            .as_domain
            .as_deref()
            .and_then(|d| self.domain_entry(d))
        {
            return Some(Self::sender(entry, Rule::AsDomain, Confidence::Medium));
        }
        if let Some(org) = facts.confirmed_org_domain() {
            return Some(Sender {
                name: org.to_owned(),
                kind: SenderType::Unknown,
                rule: Rule::Ptr,
                confidence: Confidence::Low,
            });
        }
        facts.network.as_name.as_ref().map(|name| Sender {
            name: name.clone(),
            kind: SenderType::Unknown,
            rule: Rule::AsName,
            confidence: Confidence::Low,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DnsAnswer, Network, Status};

    fn facts(ip: &str, ptr: Option<&str>, confirmed: Option<bool>, net: Network) -> Facts {
        Facts {
            ip: ip.to_owned(),
            dns: DnsAnswer {
                status: if ptr.is_some() {
                    Status::Ok
                } else {
                    Status::NxDomain
                },
                names: ptr.map(str::to_owned).into_iter().collect(),
                ptr: ptr.map(str::to_owned),
                is_confirmed: confirmed,
                looked_up_at: Some(0),
            },
            network: net,
            sender: None,
        }
    }

    fn network(as_name: &str, as_domain: Option<&str>) -> Network {
        Network {
            asn: Some(64496),
            as_name: Some(as_name.to_owned()),
            as_domain: as_domain.map(str::to_owned),
            country: Some("US".into()),
            sources: vec!["test.mmdb".into()],
        }
    }

    fn user_rules() -> Vec<SenderRule> {
        vec![SenderRule {
            name: "Our Exchange".into(),
            kind: None,
            networks: vec!["192.0.2.0/24".into(), "2001:db8:1::25".into()],
            domains: vec!["mail.example.com".into()],
        }]
    }

    #[test]
    fn the_builtin_map_parses_and_names_the_major_senders() -> Result<(), EnrichError> {
        let entries = parse_map(BUILTIN_MAP)?;
        assert!(entries.len() >= 60, "{} entries", entries.len());
        let mut domains: Vec<&str> = entries.iter().map(|(d, _)| d.as_str()).collect();
        domains.sort_unstable();
        let n = domains.len();
        domains.dedup();
        assert_eq!(domains.len(), n, "a domain is listed twice");
        let kinds: std::collections::HashSet<SenderType> =
            entries.iter().map(|(_, e)| e.kind).collect();
        for kind in [
            SenderType::EmailProvider,
            SenderType::Marketing,
            SenderType::Transactional,
            SenderType::CrmHelpdesk,
            SenderType::SecurityGateway,
            SenderType::Forwarder,
        ] {
            assert!(kinds.contains(&kind), "{kind:?}");
        }
        Ok(())
    }

    #[test]
    fn rules_in_order() -> Result<(), EnrichError> {
        let map = SenderMap::new(&user_rules())?;
        let name = |s: Option<Sender>| {
            s.map(|s| (s.name, s.kind.code(), s.rule.code(), s.confidence.code()))
        };
        // (case, facts, expected)
        let cases = [
            (
                "a user network beats everything",
                facts(
                    "192.0.2.25",
                    Some("mta.mcsv.net"),
                    Some(true),
                    network("Google LLC", Some("google.com")),
                ),
                Some(("Our Exchange".into(), "own", "config", "high")),
            ),
            (
                "a single IPv6 address as a network",
                facts("2001:db8:1::25", None, None, Network::default()),
                Some(("Our Exchange".into(), "own", "config", "high")),
            ),
            (
                "a confirmed PTR names the sender",
                facts(
                    "198.51.100.7",
                    Some("mail-ej1-f41.google.com"),
                    Some(true),
                    network("Some Transit", None),
                ),
                Some(("Google".into(), "email_provider", "ptr", "medium")),
            ),
            (
                "a spoofed PTR (not confirmed) is not trusted: the AS decides",
                facts(
                    "198.51.100.8",
                    Some("mail.google.com"),
                    Some(false),
                    network("Bad Hosting Ltd", Some("badhosting.example")),
                ),
                Some(("Bad Hosting Ltd".into(), "unknown", "as_name", "low")),
            ),
            (
                "an unconfirmable PTR (lookups timed out) is not trusted either",
                facts(
                    "198.51.100.9",
                    Some("mx.sendgrid.net"),
                    None,
                    Network::default(),
                ),
                None,
            ),
            (
                "the AS domain, when the PTR is unknown",
                facts(
                    "198.51.100.10",
                    Some("ec2-198-51-100-10.compute.example"),
                    Some(true),
                    network("Amazon.com, Inc.", Some("amazon.com")),
                ),
                Some(("Amazon".into(), "hosting", "as_domain", "medium")),
            ),
            (
                "a confirmed but unknown PTR names its organizational domain",
                facts(
                    "198.51.100.11",
                    Some("smtp1.mail.example.co.uk"),
                    Some(true),
                    Network::default(),
                ),
                Some(("example.co.uk".into(), "unknown", "ptr", "low")),
            ),
            (
                "a user domain matched by a confirmed PTR is a config rule",
                facts(
                    "198.51.100.12",
                    Some("out1.mail.example.com"),
                    Some(true),
                    Network::default(),
                ),
                Some(("Our Exchange".into(), "own", "config", "high")),
            ),
            (
                "a confirmed bare host name names nobody",
                facts("198.51.100.14", Some("vm"), Some(true), Network::default()),
                None,
            ),
            (
                "nothing known",
                facts("198.51.100.13", None, None, Network::default()),
                None,
            ),
        ];
        for (case, facts, expected) in cases {
            assert_eq!(name(map.for_ip(&facts)), expected, "{case}");
        }
        Ok(())
    }

    #[test]
    fn dkim_domains_by_suffix() -> Result<(), EnrichError> {
        let map = SenderMap::new(&user_rules())?;
        let name = |d: &str| map.for_dkim_domain(d).map(|s| (s.name, s.rule.code()));
        assert_eq!(name("amazonses.com"), Some(("Amazon SES".into(), "dkim")));
        assert_eq!(name("mcsv.net"), Some(("Mailchimp".into(), "dkim")));
        assert_eq!(
            name("contoso.onmicrosoft.com"),
            Some(("Microsoft 365".into(), "dkim"))
        );
        assert_eq!(
            name("example-com.20230601.gappssmtp.com"),
            Some(("Google Workspace".into(), "dkim"))
        );
        assert_eq!(
            name("MAIL.EXAMPLE.COM."),
            Some(("Our Exchange".into(), "config"))
        );
        assert_eq!(
            name("example.com"),
            None,
            "a parent of a user domain is not the user's"
        );
        assert_eq!(
            name("notamazonses.com"),
            None,
            "suffixes match at label boundaries"
        );
        assert_eq!(name("com"), None);
        Ok(())
    }

    #[test]
    fn the_fingerprint_follows_the_user_rules() -> Result<(), EnrichError> {
        let a = SenderMap::new(&user_rules())?.fingerprint();
        assert_eq!(a, SenderMap::new(&user_rules())?.fingerprint());
        let mut other = user_rules();
        other[0].networks.push("203.0.113.0/24".into());
        assert_ne!(a, SenderMap::new(&other)?.fingerprint());
        let bad = vec![SenderRule {
            name: "x".into(),
            kind: None,
            networks: vec!["192.0.2.0/33".into()],
            domains: vec![],
        }];
        assert!(SenderMap::new(&bad).is_err());
        Ok(())
    }
}
