//! Errors that say which server, which step, and (for fetches) which message.

/// Something went wrong talking to a mailbox.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error(
        "refusing plaintext IMAP to {host}: it is not a loopback address (use security = \"tls\" or \"starttls\")"
    )]
    PlaintextNotLoopback { host: String },
    #[error("TLS with {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot load the CA file {path}: {reason}")]
    CaFile {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("{host} does not offer STARTTLS")]
    NoStarttls { host: String },
    #[error("cannot read the secret for {user} from {source_desc}: {reason}")]
    Secret {
        user: String,
        source_desc: String,
        reason: String,
    },
    #[error("{host} refused the login of {user}: {reason}")]
    Auth {
        host: String,
        user: String,
        reason: String,
    },
    #[error("{host}: no response within {timeout_secs} s while {step}")]
    Timeout {
        host: String,
        step: &'static str,
        timeout_secs: u64,
    },
    #[error("{host}: {step} failed: {source}")]
    Protocol {
        host: String,
        step: &'static str,
        source: async_imap::error::Error,
    },
    #[error("cannot start the IMAP runtime: {0}")]
    Runtime(std::io::Error),
}

impl ImapError {
    /// True when no session could be established (wrong address, certificate, credentials):
    /// retrying soon will not help, and rua exits with its "cannot connect" code.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            ImapError::Resolve { .. }
                | ImapError::Connect { .. }
                | ImapError::PlaintextNotLoopback { .. }
                | ImapError::Tls { .. }
                | ImapError::CaFile { .. }
                | ImapError::NoStarttls { .. }
                | ImapError::Secret { .. }
                | ImapError::Auth { .. }
        )
    }
}
