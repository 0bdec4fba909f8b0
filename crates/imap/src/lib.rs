//! rua's IMAP source: connects to a report mailbox (implicit TLS, STARTTLS, or plaintext to a
//! loopback server only), logs in (LOGIN, AUTHENTICATE PLAIN or XOAUTH2), lists new messages
//! by UID, fetches them in batches with `UID FETCH ... BODY.PEEK[]` as a stream, applies the
//! after-actions it is told to, and waits for new mail with IDLE (or by polling).
//!
//! The API is blocking: [`Client`] runs its own single-threaded tokio runtime, so the caller
//! can parse and commit each message (synchronous DuckDB work) inside the fetch callback while
//! the server keeps streaming. This crate never decides what happened to a message; the
//! caller commits first and then asks for the action. This is the only crate that speaks IMAP.

mod account;
mod client;
mod error;
mod secret;
mod transport;

pub use account::{Account, Action, AfterActions, AuthMethod, Secret, Security};
pub use client::{Client, FolderStatus, IdleOutcome, MessageInfo};
pub use error::ImapError;
