//! Network and country from MMDB files the user points to: IPinfo Lite (`asn` as "AS15169",
//! `as_name`, `as_domain`, `country_code`), MaxMind GeoLite2 and DB-IP Lite ASN
//! (`autonomous_system_number`, `autonomous_system_organization`) and Country or City
//! (`country.iso_code`, else `registered_country.iso_code`). Each file answers the fields it
//! has; the first file (in the configured order) that has a field gives it. Nothing is ever
//! downloaded.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EnrichError;

/// A file older than this (by its own build date) is worth a warning.
pub const STALE_AFTER_DAYS: u64 = 30;

/// The network part of an address's facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub as_domain: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// The files that answered, by file name.
    pub sources: Vec<String>,
}

/// A field that is a string in one schema and a record in another.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Country {
    Record { iso_code: Option<String> },
    Name(#[allow(dead_code)] String),
}

/// A number in MaxMind's schema, "AS15169" in IPinfo's.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Asn {
    Number(u32),
    Text(String),
}

/// Every schema's fields at once; each file fills the ones it has.
#[derive(Debug, Default, Deserialize)]
struct AnySchema {
    asn: Option<Asn>,
    as_name: Option<String>,
    as_domain: Option<String>,
    country_code: Option<String>,
    /// Any unsigned width: real files use uint32, small writers the smallest that fits.
    autonomous_system_number: Option<Asn>,
    autonomous_system_organization: Option<String>,
    country: Option<Country>,
    registered_country: Option<Country>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl AnySchema {
    fn asn(&self) -> Option<u32> {
        let number = |asn: &Option<Asn>| match asn {
            Some(Asn::Number(n)) => Some(*n),
            Some(Asn::Text(t)) => t
                .trim()
                .trim_start_matches(['A', 'S', 'a', 's'])
                .parse()
                .ok(),
            None => None,
        };
        number(&self.autonomous_system_number)
            .or_else(|| number(&self.asn))
            .filter(|&n| n != 0)
    }

    fn country(self) -> Option<String> {
        let iso = |c: Option<Country>| match c {
            Some(Country::Record { iso_code }) => non_empty(iso_code),
            _ => None,
        };
        non_empty(self.country_code)
            .or_else(|| iso(self.country))
            .or_else(|| iso(self.registered_country))
            .map(|c| c.to_ascii_uppercase())
    }
}

/// One open file.
struct Database {
    path: PathBuf,
    name: String,
    reader: maxminddb::Reader<Vec<u8>>,
}

/// What rua knows of one file, for the run's log and the database (`ip_databases`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    pub path: PathBuf,
    pub database_type: String,
    /// Seconds since the Unix epoch.
    pub build_epoch: u64,
}

/// `YYYY-MM-DD` (UTC) of seconds since the epoch.
pub fn date_text(epoch: u64) -> String {
    let days = i64::try_from(epoch / 86_400).unwrap_or(0);
    let (y, m, d) = rua_report::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

impl DatabaseInfo {
    /// Days since the file was built, at `now` (seconds since the epoch).
    pub fn age_days(&self, now: u64) -> u64 {
        now.saturating_sub(self.build_epoch) / 86_400
    }
}

/// The configured IP databases that opened.
#[derive(Default)]
pub struct IpDatabases {
    databases: Vec<Database>,
}

impl std::fmt::Debug for IpDatabases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.databases.iter().map(|d| &d.path))
            .finish()
    }
}

fn open(path: &Path) -> Result<Database, EnrichError> {
    let error = |reason: String| EnrichError::Database {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let reader = maxminddb::Reader::from_source(bytes)
        .map_err(|e| error(format!("not a readable MMDB file: {e}")))?;
    // A file whose search tree is damaged fails here, not on the thousandth lookup.
    reader
        .verify()
        .map_err(|e| error(format!("damaged MMDB file: {e}")))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    Ok(Database {
        path: path.to_owned(),
        name,
        reader,
    })
}

impl IpDatabases {
    /// Opens each file; one that is missing or damaged is returned as an error beside the
    /// others, which still answer.
    pub fn open(paths: &[PathBuf]) -> (IpDatabases, Vec<EnrichError>) {
        let mut databases = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            match open(path) {
                Ok(db) => databases.push(db),
                Err(e) => errors.push(e),
            }
        }
        (IpDatabases { databases }, errors)
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
    }

    pub fn info(&self) -> Vec<DatabaseInfo> {
        self.databases
            .iter()
            .map(|d| DatabaseInfo {
                path: d.path.clone(),
                database_type: d.reader.metadata().database_type.clone(),
                build_epoch: d.reader.metadata().build_epoch,
            })
            .collect()
    }

    /// What the files say about `ip`. A record a file cannot decode counts as no answer
    /// from that file.
    pub fn lookup(&self, ip: IpAddr) -> Network {
        let mut network = Network::default();
        for db in &self.databases {
            let found: Option<AnySchema> = db
                .reader
                .lookup(ip)
                .ok()
                .and_then(|result| result.decode::<AnySchema>().ok().flatten());
            let Some(found) = found else { continue };
            let before = network.clone();
            network.asn = network.asn.or(found.asn());
            network.as_name = network
                .as_name
                .or_else(|| non_empty(found.as_name.clone()))
                .or_else(|| non_empty(found.autonomous_system_organization.clone()));
            network.as_domain = network
                .as_domain
                .or_else(|| non_empty(found.as_domain.clone()).map(|d| d.to_ascii_lowercase()));
            network.country = network.country.or_else(|| found.country());
            if network != before {
                network.sources.push(db.name.clone());
            }
        }
        network
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipinfo_asn_text_becomes_a_number() {
        let s = AnySchema {
            asn: Some(Asn::Text("AS15169".into())),
            ..AnySchema::default()
        };
        assert_eq!(s.asn(), Some(15169));
        let s = AnySchema {
            autonomous_system_number: Some(Asn::Number(64496)),
            ..AnySchema::default()
        };
        assert_eq!(s.asn(), Some(64496));
        let s = AnySchema {
            asn: Some(Asn::Text("".into())),
            ..AnySchema::default()
        };
        assert_eq!(s.asn(), None);
    }

    #[test]
    fn missing_files_are_named_and_the_rest_still_answer() {
        let (dbs, errors) = IpDatabases::open(&[PathBuf::from("/nonexistent/asn.mmdb")]);
        assert!(dbs.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("/nonexistent/asn.mmdb"));
        assert_eq!(
            dbs.lookup("192.0.2.1".parse().unwrap_or(IpAddr::from([0; 4]))),
            Network::default()
        );
    }
}
