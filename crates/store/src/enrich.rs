//! What `rua enrich` reads and writes: `ip_info` (one row per source address),
//! `dkim_senders` and `enrich_state`. The store only keeps the facts; finding them (DNS, IP
//! databases, sender rules) is `rua-enrich`'s.

use duckdb::OptionalExt as _;

use crate::{Store, StoreError};

/// A named sender, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRow {
    pub name: String,
    pub kind: String,
    pub rule: String,
    pub confidence: String,
}

/// One `ip_info` row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpInfo {
    pub ip: String,
    pub ptr: Option<String>,
    pub ptr_names: Vec<String>,
    pub ptr_confirmed: Option<bool>,
    pub ptr_org_domain: Option<String>,
    pub status: String,
    /// Seconds since the Unix epoch.
    pub looked_up_at: Option<i64>,
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub as_domain: Option<String>,
    pub country: Option<String>,
    pub ip_databases: Option<String>,
    pub sender: Option<SenderRow>,
}

/// An address to work on, with the DNS answer already stored for it (when there is one).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichTodo {
    pub ip: String,
    /// Never looked up, not answered, or the answer is too old.
    pub needs_dns: bool,
    /// The stored DNS part: status, names, ptr, confirmed, looked up at (boxed: a first
    /// enrichment lists millions of new addresses, which have none).
    pub known: Option<Box<IpInfo>>,
}

/// Which addresses [`Store::enrich_todo`] returns.
#[derive(Debug, Clone, Copy)]
pub struct TodoFilter {
    /// Every address (the IP databases or the sender rules changed).
    pub is_all: bool,
    /// Also those that need DNS (false when offline: nothing would answer them).
    pub is_online: bool,
    /// An answer older than this is asked again.
    pub max_age_secs: i64,
    /// New addresses are looked for in the records of reports after this key only (the
    /// last run saw everything up to it; -1 for all).
    pub records_after: i64,
}

impl Store {
    /// The addresses `rua enrich` should work on.
    pub fn enrich_todo(&self, filter: TodoFilter) -> Result<Vec<EnrichTodo>, StoreError> {
        let context = "listing the addresses to enrich";
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/enrich_todo.sql"))
            .map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map(
                duckdb::params![
                    filter.is_all,
                    filter.is_online,
                    filter.max_age_secs,
                    filter.records_after
                ],
                |r| {
                    let ip: String = r.get(0)?;
                    let status: Option<String> = r.get(2)?;
                    let names: Option<String> =
                        r.get::<_, Option<duckdb::types::Value>>(3)?
                            .map(|v| match v {
                                duckdb::types::Value::List(items) => items
                                    .into_iter()
                                    .filter_map(|i| match i {
                                        duckdb::types::Value::Text(t) => Some(t),
                                        _ => None,
                                    })
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                _ => String::new(),
                            });
                    let known = match status {
                        Some(status) => Some(Box::new(IpInfo {
                            ip: ip.clone(),
                            status,
                            ptr_names: names
                                .unwrap_or_default()
                                .split(' ')
                                .filter(|n| !n.is_empty())
                                .map(str::to_owned)
                                .collect(),
                            ptr: r.get(4)?,
                            ptr_confirmed: r.get(5)?,
                            looked_up_at: r.get(6)?,
                            ..IpInfo::default()
                        })),
                        None => None,
                    };
                    Ok(EnrichTodo {
                        ip,
                        needs_dns: r.get(1)?,
                        known,
                    })
                },
            )
            .map_err(StoreError::db(context))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::db(context))
    }

    /// Stores addresses' facts in one transaction (replacing what was there).
    pub fn save_ip_info(&mut self, rows: &[IpInfo]) -> Result<(), StoreError> {
        let context = "storing address facts";
        let tx = self.conn.transaction().map_err(StoreError::db(context))?;
        tx.execute_batch(include_str!("../../../sql/store/ip_info_incoming.sql"))
            .map_err(StoreError::db(context))?;
        {
            let mut appender = tx
                .appender_to_catalog_and_db("ip_info_incoming", "temp", "main")
                .map_err(StoreError::db(context))?;
            for row in rows {
                let sender = row.sender.as_ref();
                appender
                    .append_row(duckdb::params![
                        row.ip,
                        row.ptr,
                        row.ptr_names.join(" "),
                        row.ptr_confirmed,
                        row.ptr_org_domain,
                        row.status,
                        row.looked_up_at,
                        row.asn.map(i64::from),
                        row.as_name,
                        row.as_domain,
                        row.country,
                        row.ip_databases,
                        sender.map(|s| &s.name),
                        sender.map(|s| &s.kind),
                        sender.map(|s| &s.rule),
                        sender.map(|s| &s.confidence),
                    ])
                    .map_err(StoreError::db(context))?;
            }
            appender.flush().map_err(StoreError::db(context))?;
        }
        tx.execute_batch(include_str!("../../../sql/store/save_ip_info.sql"))
            .map_err(StoreError::db(context))?;
        tx.commit().map_err(StoreError::db(context))
    }

    /// Every passing DKIM signing domain that names a record's sender.
    pub fn dkim_signers(&self) -> Result<Vec<String>, StoreError> {
        let context = "listing DKIM signing domains";
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/dkim_signers.sql"))
            .map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(StoreError::db(context))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::db(context))
    }

    /// Replaces `dkim_senders` with `rows` (domain, sender) in one transaction.
    pub fn replace_dkim_senders(&mut self, rows: &[(String, SenderRow)]) -> Result<(), StoreError> {
        self.replace_table(
            "storing DKIM senders",
            include_str!("../../../sql/store/clear_dkim_senders.sql"),
            include_str!("../../../sql/store/insert_dkim_sender.sql"),
            include_str!("../../../sql/store/unclassify_dkim_senders.sql"),
            |insert| {
                for (domain, s) in rows {
                    insert.execute(duckdb::params![
                        domain,
                        s.name,
                        s.kind,
                        s.rule,
                        s.confidence
                    ])?;
                }
                Ok(())
            },
        )
    }

    /// Replaces `source_overrides` with `rows` (policy domain or None for every domain,
    /// sender, authorized) in one transaction.
    pub fn replace_source_overrides(
        &mut self,
        rows: &[(Option<String>, String, bool)],
    ) -> Result<(), StoreError> {
        self.replace_table(
            "storing the configured source verdicts",
            include_str!("../../../sql/store/clear_source_overrides.sql"),
            include_str!("../../../sql/store/insert_source_override.sql"),
            include_str!("../../../sql/store/unclassify_source_overrides.sql"),
            |insert| {
                for (domain, sender, authorized) in rows {
                    insert.execute(duckdb::params![domain, sender, authorized])?;
                }
                Ok(())
            },
        )
    }

    /// Empties a table (`clear`), fills it with `fill`, which runs `insert` for each row,
    /// and runs `unclassify` (which drops the stored classes the change touches), in one
    /// transaction.
    fn replace_table(
        &mut self,
        context: &'static str,
        clear: &str,
        insert: &str,
        unclassify: &str,
        fill: impl FnOnce(&mut duckdb::Statement<'_>) -> duckdb::Result<()>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(StoreError::db(context))?;
        tx.execute_batch(clear).map_err(StoreError::db(context))?;
        {
            let mut stmt = tx.prepare(insert).map_err(StoreError::db(context))?;
            fill(&mut stmt).map_err(StoreError::db(context))?;
        }
        tx.execute_batch(unclassify)
            .map_err(StoreError::db(context))?;
        tx.commit().map_err(StoreError::db(context))
    }

    /// A value `rua enrich` left for the next run (which databases and rules it used).
    pub fn enrich_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                include_str!("../../../sql/store/enrich_state.sql"),
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(StoreError::db("reading the enrichment state"))
    }

    pub fn set_enrich_state(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../../sql/store/set_enrich_state.sql"),
                [name, value],
            )
            .map_err(StoreError::db("recording the enrichment state"))?;
        Ok(())
    }

    /// Fills `records.dkim_signer` for the records stored before schema version 8, about
    /// `batch_records` records per transaction, recording its progress in `enrich_state`
    /// (a killed run goes on from there). Returns the records done.
    pub fn backfill_dkim_signers(&mut self, batch_records: i64) -> Result<i64, StoreError> {
        const STATE: &str = "dkim_signer_backfill";
        let context = "finding the DKIM signers of older records";
        let Some(range) = self.enrich_state(STATE)? else {
            return Ok(0);
        };
        let mut bounds = range.split(' ').filter_map(|s| s.parse::<i64>().ok());
        let (Some(next), Some(end)) = (bounds.next(), bounds.next()) else {
            return Ok(0);
        };
        let spans: Vec<Span> = self
            .report_sizes(
                context,
                include_str!("../../../sql/store/report_sizes.sql"),
                &[next, end],
            )?
            .into_iter()
            .map(|(key, n)| Span::whole(key, n))
            .collect();
        let mut done = 0;
        for Batch {
            from: (first, _),
            to: (last, _),
            n,
        } in batches(&spans, batch_records)
        {
            let tx = self.conn.transaction().map_err(StoreError::db(context))?;
            tx.execute(
                include_str!("../../../sql/store/backfill_dkim_signer.sql"),
                [first, last],
            )
            .map_err(StoreError::db(context))?;
            tx.execute(
                include_str!("../../../sql/store/set_enrich_state.sql"),
                [STATE, &format!("{} {end}", last + 1)],
            )
            .map_err(StoreError::db(context))?;
            tx.commit().map_err(StoreError::db(context))?;
            self.checkpoint(context)?;
            done += n;
        }
        self.conn
            .execute(
                include_str!("../../../sql/store/delete_enrich_state.sql"),
                [STATE],
            )
            .map_err(StoreError::db(context))?;
        Ok(done)
    }

    /// Stores who sent each record not classified yet and its class (`computed_classes`),
    /// about `batch_records` records per transaction. A killed run leaves the rest for the
    /// next: a record is classified or not, and `classified_records` computes the latter.
    /// Returns the records classified.
    pub fn classify_records(&mut self, batch_records: i64) -> Result<i64, StoreError> {
        let context = "storing each record's sender and class";
        let spans: Vec<Span> = {
            let mut stmt = self
                .conn
                .prepare(include_str!("../../../sql/store/unclassified_sizes.sql"))
                .map_err(StoreError::db(context))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Span {
                        key: r.get(0)?,
                        first: r.get(1)?,
                        last: r.get(2)?,
                        n: r.get(3)?,
                    })
                })
                .map_err(StoreError::db(context))?;
            rows.collect::<Result<_, _>>()
                .map_err(StoreError::db(context))?
        };
        let spans: Vec<Span> = spans
            .into_iter()
            .flat_map(|s| s.split(batch_records))
            .collect();
        let mut done = 0;
        for Batch { from, to, n } in batches(&spans, batch_records) {
            let tx = self.conn.transaction().map_err(StoreError::db(context))?;
            tx.execute(
                include_str!("../../../sql/store/classify_records.sql"),
                [from.0, from.1, to.0, to.1],
            )
            .map_err(StoreError::db(context))?;
            tx.execute_batch(include_str!("../../../sql/store/store_classes.sql"))
                .map_err(StoreError::db(context))?;
            tx.commit().map_err(StoreError::db(context))?;
            self.checkpoint(context)?;
            done += n;
        }
        Ok(done)
    }

    /// For a reader: when every record of a counted report is classified, this connection's
    /// classified_records reads the stored classes alone (sql/store/read_stored_classes.sql).
    pub(crate) fn read_stored_classes_when_complete(&self) -> Result<(), StoreError> {
        let context = "looking for records not classified yet";
        let unclassified: i64 = self
            .conn
            .query_row(
                include_str!("../../../sql/store/unclassified_records.sql"),
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::db(context))?;
        if unclassified == 0 {
            self.conn
                .execute_batch(include_str!("../../../sql/store/read_stored_classes.sql"))
                .map_err(StoreError::db(context))?;
        }
        Ok(())
    }

    /// (report key, records) rows of `sql`, in key order.
    fn report_sizes(
        &self,
        context: &'static str,
        sql: &str,
        params: &[i64],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map(duckdb::params_from_iter(params), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(StoreError::db(context))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::db(context))
    }

    /// DuckDB holds updated rows in memory until a checkpoint: one after each batch of an
    /// update keeps it under the writer's memory limit.
    fn checkpoint(&self, context: &'static str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(include_str!("../../../sql/store/checkpoint.sql"))
            .map_err(StoreError::db(context))
    }

    /// The newest report key with records (-1 when there is none).
    pub fn max_record_report_key(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                include_str!("../../../sql/store/max_record_report_key.sql"),
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::db("reading the newest report key"))
    }

    /// How many source addresses have each lookup status (`not_enriched`: no row yet).
    pub fn ip_status_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let context = "counting address statuses";
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/ip_status_counts.sql"))
            .map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(StoreError::db(context))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::db(context))
    }
}

/// Records of one report to work on: its key, the first and last record index, and how
/// many records (about, once split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    key: i64,
    first: i64,
    last: i64,
    n: i64,
}

impl Span {
    /// Every record of a report.
    fn whole(key: i64, n: i64) -> Span {
        Span {
            key,
            first: 0,
            last: i64::from(i32::MAX),
            n,
        }
    }

    /// The span in parts of about `batch_records` records each, by record index (one
    /// report of a million records would not fit in the writer's memory at once).
    fn split(self, batch_records: i64) -> Vec<Span> {
        let parts = ((self.n + batch_records - 1) / batch_records.max(1)).max(1);
        let width = (self.last - self.first + parts) / parts;
        (0..parts)
            .map(|i| Span {
                key: self.key,
                first: self.first + i * width,
                last: (self.first + (i + 1) * width - 1).min(self.last),
                n: (self.n + parts - 1) / parts,
            })
            .take_while(|s| s.first <= self.last)
            .collect()
    }
}

/// A batch: from (report key, record index) to (report key, record index), inclusive.
#[derive(Debug, PartialEq, Eq)]
struct Batch {
    from: (i64, i64),
    to: (i64, i64),
    n: i64,
}

/// Consecutive runs of `spans` (in key order) of about `batch_records` records each.
fn batches(spans: &[Span], batch_records: i64) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(b) if b.n + s.n <= batch_records => {
                b.to = (s.key, s.last);
                b.n += s.n;
            }
            _ => out.push(Batch {
                from: (s.key, s.first),
                to: (s.key, s.last),
                n: s.n,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Batch, Span, batches};

    #[test]
    fn batches_keep_spans_whole_and_near_the_size() {
        let spans: Vec<Span> = [(1, 5), (2, 5), (4, 20), (7, 1), (9, 3)]
            .into_iter()
            .map(|(key, n)| Span::whole(key, n))
            .collect();
        let keys: Vec<(i64, i64, i64)> = batches(&spans, 10)
            .into_iter()
            .map(|b| (b.from.0, b.to.0, b.n))
            .collect();
        assert_eq!(keys, vec![(1, 2, 10), (4, 4, 20), (7, 9, 4)]);
        assert_eq!(batches(&[], 10), vec![]);
    }

    #[test]
    fn a_large_report_is_split_by_record_index() {
        let span = Span {
            key: 3,
            first: 0,
            last: 999_999,
            n: 1_000_000,
        };
        let parts = span.split(200_000);
        assert_eq!(parts.len(), 5);
        assert_eq!((parts[0].first, parts[0].last), (0, 199_999));
        assert_eq!((parts[4].first, parts[4].last), (800_000, 999_999));
        assert!(parts.iter().all(|p| p.key == 3 && p.n == 200_000));
        let b = batches(&parts, 200_000);
        assert_eq!(b.len(), 5);
        assert_eq!(
            b[1],
            Batch {
                from: (3, 200_000),
                to: (3, 399_999),
                n: 200_000
            }
        );
        // Small ones stay whole; a span of one record too.
        assert_eq!(span.split(2_000_000), vec![span]);
        let one = Span {
            key: 1,
            first: 7,
            last: 7,
            n: 1,
        };
        assert_eq!(one.split(1), vec![one]);
    }
}
