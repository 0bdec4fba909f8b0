//! Where incremental sources (IMAP folders) were left, committed with the data they fed.

use duckdb::OptionalExt as _;

use crate::{Store, StoreError};

/// An IMAP folder's position: everything up to `last_uid` under `uid_validity` was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderState {
    pub uid_validity: u32,
    pub last_uid: u32,
}

impl Store {
    /// Where `mailbox` (an `imap://user@host:port/folder` location) was left, if ever read.
    pub fn folder_state(&self, mailbox: &str) -> Result<Option<FolderState>, StoreError> {
        self.conn
            .query_row(
                include_str!("../../../sql/store/imap_state.sql"),
                [mailbox],
                |r| {
                    let validity: i64 = r.get(0)?;
                    let last: i64 = r.get(1)?;
                    Ok(FolderState {
                        uid_validity: u32::try_from(validity).unwrap_or(0),
                        last_uid: u32::try_from(last).unwrap_or(0),
                    })
                },
            )
            .optional()
            .map_err(StoreError::db("reading the IMAP state"))
    }

    /// Records a folder's position. The caller makes sure the reports up to `last_uid` are
    /// committed ([`Store::commit`], or the [`Store::hand_over`] after them); batches still
    /// in flight are not waited for.
    pub fn set_folder_state(
        &mut self,
        mailbox: &str,
        state: FolderState,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../../sql/store/set_imap_state.sql"),
                duckdb::params![
                    mailbox,
                    i64::from(state.uid_validity),
                    i64::from(state.last_uid)
                ],
            )
            .map_err(StoreError::db("recording the IMAP state"))?;
        Ok(())
    }
}
