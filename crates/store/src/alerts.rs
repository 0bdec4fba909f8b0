//! Alerts (`rua alerts`): the events of `alert_candidates` (sql/views.sql) stored once each
//! under their key, listed, and acknowledged.

use crate::query::{Param, QueryResult};
use crate::{Store, StoreError};

impl Store {
    /// Stores the events that have no alert yet and returns them (key, kind, domain, day,
    /// subject, message, value, baseline), all in one transaction. `thresholds` are
    /// `alert_candidates`' parameters, in its order.
    pub fn raise_alerts(&mut self, thresholds: &[Param]) -> Result<QueryResult, StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::db("raising alerts"))?;
        let raised = crate::query::collect(
            &tx,
            include_str!("../../../sql/store/raise_alerts.sql"),
            thresholds,
        )?;
        tx.commit().map_err(StoreError::db("raising alerts"))?;
        Ok(raised)
    }

    /// The alerts not acknowledged yet (every alert with `acknowledged`).
    pub fn alerts(&self, acknowledged: bool) -> Result<QueryResult, StoreError> {
        self.query(
            include_str!("../../../sql/store/open_alerts.sql"),
            &[Param::Int(acknowledged.into())],
        )
    }

    /// Acknowledges the alert with this key, or every open one (None); returns how many.
    pub fn ack_alerts(&mut self, key: Option<&str>) -> Result<usize, StoreError> {
        self.conn
            .execute(include_str!("../../../sql/store/ack_alerts.sql"), [key])
            .map_err(StoreError::db("acknowledging alerts"))
    }
}
