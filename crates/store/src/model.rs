//! The values callers hand the store and get back from it.

/// Where a payload came from, as stored.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source: String,
    pub chain: String,
    pub file_name: Option<String>,
    pub message_id: Option<String>,
    pub message_subject: Option<String>,
    pub message_from: Option<String>,
    pub message_date: Option<String>,
}

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New {
        report_key: i64,
    },
    /// Same identity and content as a report already stored: nothing written.
    Duplicate {
        of: i64,
    },
    /// Same identity, other content: stored, flagged, not counted.
    Conflict {
        report_key: i64,
        of: i64,
    },
    /// A stored report parsed again (`rua reparse`): its rows were replaced.
    Replaced {
        report_key: i64,
    },
}

/// A payload that could not be read as a report.
#[derive(Debug, Clone)]
pub struct RejectRow {
    pub payload_kind: String,
    pub reason_code: String,
    pub reason: String,
    pub origin: Origin,
}

/// Counts of one ingest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub n_payloads: u64,
    pub n_reports_new: u64,
    /// Copies of a report stored before (aggregate or SMTP TLS): nothing written.
    pub n_duplicates: u64,
    pub n_conflicts: u64,
    pub n_rejects: u64,
    /// SMTP TLS and failure reports stored.
    pub n_other: u64,
    /// Records and messages of the reports added (new and conflicting).
    pub n_records: u64,
    pub n_messages: u64,
    pub bytes_read: u64,
}
