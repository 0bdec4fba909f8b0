//! Alerts (`rua alerts`): the events of `alert_candidates` (sql/views.sql) stored once each
//! under their key, listed, and acknowledged.

use crate::query::{Param, QueryResult};
use crate::{Store, StoreError};

/// The thresholds of `alert_candidates`, in its parameters' order.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertThresholds {
    pub window_days: u32,
    pub baseline_days: u32,
    pub pass_rate_drop_points: f64,
    pub pass_rate_min_messages: u64,
    pub spike_factor: f64,
    pub spike_min_messages: u64,
    pub silent_after_days: u32,
    pub silent_min_days: u32,
    pub new_source_min_messages: u64,
}

impl AlertThresholds {
    fn params(&self) -> Vec<Param> {
        let count = |n: u64| Param::Int(i64::try_from(n).unwrap_or(i64::MAX));
        vec![
            Param::Int(self.window_days.into()),
            Param::Int(self.baseline_days.into()),
            Param::Float(self.pass_rate_drop_points),
            count(self.pass_rate_min_messages),
            Param::Float(self.spike_factor),
            count(self.spike_min_messages),
            Param::Int(self.silent_after_days.into()),
            Param::Int(self.silent_min_days.into()),
            count(self.new_source_min_messages),
        ]
    }
}

impl Store {
    /// Stores the events that have no alert yet and returns them (key, kind, domain, day,
    /// subject, message, value, baseline), all in one transaction.
    pub fn raise_alerts(
        &mut self,
        thresholds: &AlertThresholds,
    ) -> Result<QueryResult, StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::db("raising alerts"))?;
        let raised = crate::query::collect(
            &tx,
            include_str!("../../../sql/store/raise_alerts.sql"),
            &thresholds.params(),
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
