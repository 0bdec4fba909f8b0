//! One module per command: its arguments (`Args`, parsed by clap) and `run`, which returns
//! the exit code. To add a command: a module here and a variant of `Command` in `main.rs`.

pub mod alerts;
pub mod config;
pub mod enrich;
pub mod export;
pub mod fetch;
pub mod ingest;
pub mod lake;
pub mod policy;
pub mod rejects;
pub mod reparse;
pub mod report;
pub mod sql;
pub mod summary;
