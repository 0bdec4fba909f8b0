//! Deciding what a report is: new, a duplicate (nothing is written) or a conflict (kept,
//! flagged, never counted twice), by its identity and content hash; and recognizing a payload
//! stored before by its bytes alone.

use std::collections::{HashMap, HashSet};

use crate::{Outcome, PayloadHash, StoreError};

#[derive(Debug, Default)]
struct Known {
    first_key: i64,
    /// Content hashes of the copies stored (one unless there are conflicts).
    hashes: Vec<blake3::Hash>,
}

/// A report's identity: its organisation (its e-mail or contact when it names none), its
/// report_id, its policy domain (aggregate reports; TLS reports pass none) and its period.
pub(crate) fn identity(
    org_name: Option<&str>,
    email: Option<&str>,
    report_id: &str,
    domain: Option<&str>,
    begin: i64,
    end: i64,
) -> [u8; 32] {
    let org = match org_name.map(str::trim).filter(|s| !s.is_empty()) {
        Some(org) => org.to_lowercase(),
        None => format!("email:{}", email.unwrap_or("").trim().to_lowercase()),
    };
    let mut h = blake3::Hasher::new();
    for part in [org.as_str(), report_id.trim(), domain.unwrap_or("")] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.update(&begin.to_le_bytes());
    h.update(&end.to_le_bytes());
    *h.finalize().as_bytes()
}

/// The identities of one kind of report stored, each with the content hashes of its copies.
#[derive(Default)]
pub(crate) struct Identities {
    known: HashMap<[u8; 32], Known>,
}

impl Identities {
    /// The identities of stored reports, from a query with the columns of
    /// `known_reports.sql`: key, conflict_of, organisation, e-mail or contact, report_id,
    /// policy domain, begin, end, content hash.
    fn load(
        conn: &duckdb::Connection,
        sql: &str,
        context: &'static str,
    ) -> Result<Identities, StoreError> {
        let mut identities = Identities::default();
        let mut stmt = conn.prepare(sql).map_err(StoreError::db(context))?;
        let mut rows = stmt.query([]).map_err(StoreError::db(context))?;
        while let Some(row) = rows.next().map_err(StoreError::db(context))? {
            let read = || -> duckdb::Result<_> {
                let key: i64 = row.get(0)?;
                let conflict_of: Option<i64> = row.get(1)?;
                let org: Option<String> = row.get(2)?;
                let email: Option<String> = row.get(3)?;
                let report_id: String = row.get(4)?;
                let domain: Option<String> = row.get(5)?;
                let (begin, end): (i64, i64) = (row.get(6)?, row.get(7)?);
                let hash: String = row.get(8)?;
                let id = identity(
                    org.as_deref(),
                    email.as_deref(),
                    &report_id,
                    domain.as_deref(),
                    begin,
                    end,
                );
                Ok((id, conflict_of.unwrap_or(key), hash))
            };
            let (id, first, hash) = read().map_err(StoreError::db(context))?;
            identities.remember(id, first, &hash);
        }
        Ok(identities)
    }

    /// A stored report: `first` is the key of its identity's first copy.
    fn remember(&mut self, id: [u8; 32], first: i64, content_hash: &str) {
        let known = self.known.entry(id).or_insert_with(|| Known {
            first_key: first,
            hashes: Vec::new(),
        });
        known.first_key = known.first_key.min(first);
        // A hash that is not one (changed by hand) matches no report.
        known
            .hashes
            .extend(blake3::Hash::from_hex(content_hash).ok());
    }

    /// What a report with identity `id` and `content_hash` is, about to be stored under
    /// `report_key` (`replacing` when it replaces the stored report with that key).
    pub(crate) fn decide(
        &mut self,
        id: [u8; 32],
        content_hash: blake3::Hash,
        report_key: i64,
        replacing: Option<Option<i64>>,
    ) -> Outcome {
        match (replacing, self.known.get_mut(&id)) {
            (Some(_), _) => Outcome::Replaced { report_key },
            (None, None) => {
                self.known.insert(
                    id,
                    Known {
                        first_key: report_key,
                        hashes: vec![content_hash],
                    },
                );
                Outcome::New { report_key }
            }
            (None, Some(known)) if known.hashes.contains(&content_hash) => Outcome::Duplicate {
                of: known.first_key,
            },
            (None, Some(known)) => {
                known.hashes.push(content_hash);
                Outcome::Conflict {
                    report_key,
                    of: known.first_key,
                }
            }
        }
    }
}

/// What the database holds, as far as deciding goes: every identity with its content hashes,
/// per report kind, and the payloads stored (read before the first decision of a run that
/// stores something, kept up to date by the run).
#[derive(Default)]
pub(crate) struct Dedup {
    aggregate: Identities,
    pub(crate) tls: Identities,
    /// Payloads of stored aggregate reports (and of duplicates seen in this run), with the
    /// report a copy of them duplicates.
    pub(crate) known_report_payloads: HashMap<PayloadHash, i64>,
    /// Payloads stored as rejects, other payloads or SMTP TLS reports.
    pub(crate) known_payloads: HashSet<PayloadHash>,
    /// Content hashes of the failure reports stored (a failure report is stored once by its
    /// content: it has no identity of its own).
    pub(crate) failure_hashes: HashMap<blake3::Hash, i64>,
}

impl Dedup {
    /// Every stored report's identity and content hash, and every stored payload's hash.
    pub(crate) fn load(&mut self, conn: &duckdb::Connection) -> Result<(), StoreError> {
        self.aggregate = Identities::load(
            conn,
            include_str!("../../../sql/store/known_reports.sql"),
            "reading known reports",
        )?;
        self.tls = Identities::load(
            conn,
            include_str!("../../../sql/store/known_tls_reports.sql"),
            "reading known TLS reports",
        )?;
        let context = "reading known failure reports";
        let mut stmt = conn
            .prepare(include_str!("../../../sql/store/known_failure_reports.sql"))
            .map_err(StoreError::db(context))?;
        let hashes = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(StoreError::db(context))?;
        for hash in hashes {
            let (hash, key) = hash.map_err(StoreError::db(context))?;
            if let Ok(hash) = blake3::Hash::from_hex(&hash) {
                self.failure_hashes.insert(hash, key);
            }
        }
        drop(stmt);
        let mut stmt = conn
            .prepare(include_str!("../../../sql/store/known_payloads.sql"))
            .map_err(StoreError::db("reading known payloads"))?;
        let payloads = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .map_err(StoreError::db("reading known payloads"))?;
        for payload in payloads {
            let (hash, report) = payload.map_err(StoreError::db("reading known payloads"))?;
            let Some(hash) = PayloadHash::from_hex(&hash) else {
                continue;
            };
            match report {
                Some(first) => {
                    self.known_report_payloads.insert(hash, first);
                }
                None => {
                    self.known_payloads.insert(hash);
                }
            }
        }
        Ok(())
    }

    /// What an aggregate report is (see [`Identities::decide`]); the payload it came in is
    /// remembered as that report's.
    pub(crate) fn decide(
        &mut self,
        id: [u8; 32],
        content_hash: blake3::Hash,
        payload: PayloadHash,
        report_key: i64,
        replacing: Option<Option<i64>>,
    ) -> Outcome {
        let outcome = self
            .aggregate
            .decide(id, content_hash, report_key, replacing);
        let first = match outcome {
            Outcome::New { report_key } => report_key,
            Outcome::Replaced { report_key } => replacing.flatten().unwrap_or(report_key),
            Outcome::Duplicate { of } | Outcome::Conflict { of, .. } => of,
        };
        self.known_report_payloads.entry(payload).or_insert(first);
        outcome
    }
}
