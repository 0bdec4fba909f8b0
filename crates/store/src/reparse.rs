//! Reading kept payloads back, for `rua reparse`: stored reports are parsed again and their
//! rows replaced in place (same key, same provenance); rejected payloads are tried again and
//! leave `rejects` when they now parse, and so do payloads an older rua kept aside in
//! `other_payloads` (SMTP TLS reports).

use std::io::{BufRead, BufReader};

use flate2::read::GzDecoder;

use crate::query::Param;
use crate::{Origin, ReportWriter};
use crate::{Store, StoreError};

/// A stored report's kept XML and where it came from.
#[derive(Debug, Clone)]
pub struct StoredPayload {
    pub report_key: i64,
    pub conflict_of: Option<i64>,
    pub origin: Origin,
    raw_gz: Vec<u8>,
}

/// The kept bytes of a rejected payload or of one kept aside (`other_payloads`).
#[derive(Debug, Clone)]
pub struct KeptPayload {
    /// `reject_key` or `payload_key`.
    pub key: i64,
    pub origin: Origin,
    raw_gz: Vec<u8>,
}

fn gunzip(raw_gz: &[u8]) -> impl BufRead + '_ {
    BufReader::new(GzDecoder::new(raw_gz))
}

impl StoredPayload {
    /// The XML, decompressed as it is read.
    pub fn reader(&self) -> impl BufRead + '_ {
        gunzip(&self.raw_gz)
    }
}

impl KeptPayload {
    pub fn reader(&self) -> impl BufRead + '_ {
        gunzip(&self.raw_gz)
    }

    /// The bytes as kept: one gzip member.
    pub fn raw_gz(&self) -> &[u8] {
        &self.raw_gz
    }
}

fn text(row: &duckdb::Row<'_>, i: usize) -> duckdb::Result<Option<String>> {
    row.get(i)
}

impl Store {
    /// Up to `limit` reports with kept XML, from `from_key` on, in key order.
    pub fn stored_payloads(
        &self,
        from_key: i64,
        limit: usize,
    ) -> Result<Vec<StoredPayload>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(include_str!("../../../sql/store/stored_payloads.sql"))
            .map_err(StoreError::db("reading stored reports"))?;
        let rows = stmt
            .query_map(duckdb::params![from_key, limit as i64], |row| {
                Ok(StoredPayload {
                    report_key: row.get(0)?,
                    conflict_of: row.get(1)?,
                    origin: Origin {
                        source: text(row, 2)?.unwrap_or_default(),
                        chain: text(row, 3)?.unwrap_or_default(),
                        file_name: text(row, 4)?,
                        message_id: text(row, 5)?,
                        message_subject: text(row, 6)?,
                        message_from: text(row, 7)?,
                        message_date: text(row, 8)?,
                    },
                    raw_gz: row.get(9)?,
                })
            })
            .map_err(StoreError::db("reading stored reports"))?;
        rows.collect::<duckdb::Result<Vec<_>>>()
            .map_err(StoreError::db("reading stored reports"))
    }

    /// Up to `limit` rejected payloads of `kind`, from `from_key` on.
    pub fn stored_rejects(
        &self,
        kind: &str,
        from_key: i64,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StoreError> {
        self.kept(
            include_str!("../../../sql/store/stored_rejects.sql"),
            kind,
            from_key,
            limit,
        )
    }

    /// Up to `limit` payloads of `kind` kept aside in `other_payloads`, from `from_key` on.
    pub fn stored_other_payloads(
        &self,
        kind: &str,
        from_key: i64,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StoreError> {
        let sql = include_str!("../../../sql/store/stored_other_payloads.sql");
        self.kept(sql, kind, from_key, limit)
    }

    fn kept(
        &self,
        sql: &str,
        kind: &str,
        from_key: i64,
        limit: usize,
    ) -> Result<Vec<KeptPayload>, StoreError> {
        let context = "reading kept payloads";
        let mut stmt = self.conn.prepare(sql).map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map(duckdb::params![kind, from_key, limit as i64], |row| {
                Ok(KeptPayload {
                    key: row.get(0)?,
                    origin: Origin {
                        source: text(row, 1)?.unwrap_or_default(),
                        chain: text(row, 2)?.unwrap_or_default(),
                        file_name: text(row, 3)?,
                        message_id: text(row, 4)?,
                        message_subject: text(row, 5)?,
                        message_from: text(row, 6)?,
                        message_date: None,
                    },
                    raw_gz: row.get(7)?,
                })
            })
            .map_err(StoreError::db(context))?;
        rows.collect::<duckdb::Result<Vec<_>>>()
            .map_err(StoreError::db(context))
    }

    /// Starts re-writing a stored report under its own key; `finish` replaces its rows.
    pub fn replace_report(
        &mut self,
        stored: &StoredPayload,
    ) -> Result<ReportWriter<'_>, StoreError> {
        self.writer(stored.report_key, Some(stored.conflict_of))
    }

    /// Removes a payload kept aside that was now read (after it was stored as a report or a
    /// reject).
    pub fn forget_other_payload(&mut self, payload_key: i64) -> Result<(), StoreError> {
        self.commit()?;
        self.conn
            .execute(
                include_str!("../../../sql/store/delete_other_payload.sql"),
                [Param::Int(payload_key)],
            )
            .map_err(StoreError::db("removing a kept payload"))?;
        Ok(())
    }

    /// Removes a reject whose payload now parsed (after it was stored as a report).
    pub fn forget_reject(&mut self, reject_key: i64) -> Result<(), StoreError> {
        self.commit()?;
        self.conn
            .execute(
                include_str!("../../../sql/store/delete_reject.sql"),
                [Param::Int(reject_key)],
            )
            .map_err(StoreError::db("removing a reject"))?;
        Ok(())
    }

    /// Deletes the rows of `keys` inside the current transaction.
    pub(crate) fn delete_reports(conn: &duckdb::Connection, keys: &[i64]) -> duckdb::Result<()> {
        conn.execute_batch(include_str!("../../../sql/store/reparse_keys.sql"))?;
        let mut insert = conn.prepare(include_str!("../../../sql/store/insert_reparse_key.sql"))?;
        for &key in keys {
            insert.execute([key])?;
        }
        conn.execute_batch(include_str!("../../../sql/store/delete_reparsed.sql"))
    }
}
