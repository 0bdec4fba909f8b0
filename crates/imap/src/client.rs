//! A logged-in session with one mailbox, behind a blocking API.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};

use crate::transport::{self, Transport};
use crate::{Account, Action, AuthMethod, ImapError, Security, secret};

/// The selected folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    /// Changes when the server renumbers the folder; then every UID is new.
    pub uid_validity: u32,
    pub n_messages: u32,
}

/// A message waiting in the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo {
    pub uid: u32,
    /// RFC822.SIZE, as the server reports it.
    pub size: u32,
}

/// Why [`Client::idle`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleOutcome {
    /// The server announced a change (new mail, usually).
    Changed,
    /// Nothing happened within the IDLE period (or the server has no IDLE: the poll interval).
    Timeout,
    /// The stop flag was raised.
    Stopped,
}

/// A logged-in IMAP session.
#[derive(Debug)]
pub struct Client {
    runtime: tokio::runtime::Runtime,
    /// `None` only while IDLE holds the session, or after a failure left it unusable.
    session: Option<Session<Transport>>,
    host: String,
    timeout: Duration,
    has_idle: bool,
    has_move: bool,
    has_uidplus: bool,
}

/// Borrowed from a [`Client`] for one command.
struct Parts<'a> {
    runtime: &'a tokio::runtime::Runtime,
    session: &'a mut Session<Transport>,
    host: &'a str,
    timeout: Duration,
}

/// Runs `fut` for at most `timeout`, naming the step in errors.
async fn within<T>(
    host: &str,
    timeout: Duration,
    step: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(result) => result.map_err(|source| ImapError::Protocol {
            host: host.to_owned(),
            step,
            source,
        }),
        Err(_) => Err(ImapError::Timeout {
            host: host.to_owned(),
            step,
            timeout_secs: timeout.as_secs(),
        }),
    }
}

struct PlainAuth<'a> {
    user: &'a str,
    password: &'a str,
}

impl async_imap::Authenticator for PlainAuth<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.user, self.password).into_bytes()
    }
}

/// RFC-less but documented by Google and Microsoft: `user=U^Aauth=Bearer T^A^A`. After a
/// failure the server sends an error challenge, answered with an empty line.
struct XOAuth2<'a> {
    user: &'a str,
    token: &'a str,
    is_sent: bool,
}

impl async_imap::Authenticator for XOAuth2<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if self.is_sent {
            tracing::debug!("XOAUTH2 error: {}", String::from_utf8_lossy(challenge));
            return Vec::new();
        }
        self.is_sent = true;
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token).into_bytes()
    }
}

/// A compact UID set: `1:4,7,9:12`.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// The server's own words from async-imap's rendering of a NO or BAD response
/// (`code: None, info: Some("...")`).
fn server_text(reason: &str) -> String {
    match reason.split_once("Some(\"") {
        Some((_, rest)) => rest
            .rsplit_once("\")")
            .map_or(rest, |(text, _)| text)
            .replace("\\\"", "\""),
        None => reason.to_owned(),
    }
}

impl Client {
    /// Connects, secures and logs in. Errors from here are [`ImapError::is_connect`] ones
    /// when the server cannot be reached or refuses the credentials.
    pub fn connect(account: &Account) -> Result<Client, ImapError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ImapError::Runtime)?;
        let timeout = Duration::from_secs(account.timeout_secs.max(1));
        let host = account.host.clone();
        let (session, caps) = runtime.block_on(async {
            let mut session = login(account, timeout).await?;
            let caps = within(&host, timeout, "CAPABILITY", session.capabilities()).await?;
            Ok::<_, ImapError>((session, caps))
        })?;
        Ok(Client {
            runtime,
            session: Some(session),
            host,
            timeout,
            has_idle: caps.has_str("IDLE"),
            has_move: caps.has_str("MOVE"),
            has_uidplus: caps.has_str("UIDPLUS"),
        })
    }

    /// The session (or the error that it is gone) with what every command needs beside it.
    fn parts(&mut self, step: &'static str) -> Result<Parts<'_>, ImapError> {
        let Client {
            runtime,
            session,
            host,
            timeout,
            ..
        } = self;
        let session = session.as_mut().ok_or_else(|| lost(host, step))?;
        Ok(Parts {
            runtime,
            session,
            host,
            timeout: *timeout,
        })
    }

    /// Whether the server supports IDLE (otherwise [`Client::idle`] just sleeps).
    pub fn has_idle(&self) -> bool {
        self.has_idle
    }

    /// Opens `folder`: EXAMINE when read-only (nothing can change), SELECT otherwise.
    pub fn select(&mut self, folder: &str, is_read_only: bool) -> Result<FolderStatus, ImapError> {
        let Parts {
            runtime,
            session,
            host,
            timeout,
        } = self.parts("SELECT")?;
        let mailbox = if is_read_only {
            runtime.block_on(within(host, timeout, "EXAMINE", session.examine(folder)))?
        } else {
            runtime.block_on(within(host, timeout, "SELECT", session.select(folder)))?
        };
        Ok(FolderStatus {
            uid_validity: mailbox.uid_validity.unwrap_or(0),
            n_messages: mailbox.exists,
        })
    }

    /// Messages with a UID above `last_uid`, in UID order, with their sizes.
    pub fn list_after(&mut self, last_uid: u32) -> Result<Vec<MessageInfo>, ImapError> {
        let Parts {
            runtime,
            session,
            host,
            timeout,
        } = self.parts("UID FETCH")?;
        let set = format!("{}:*", last_uid.saturating_add(1));
        let mut found = runtime.block_on(async {
            let mut stream = pin!(
                within(
                    host,
                    timeout,
                    "listing messages",
                    session.uid_fetch(&set, "(UID RFC822.SIZE)"),
                )
                .await?
            );
            let mut found = Vec::new();
            while let Some(item) = next(host, timeout, "listing messages", stream.as_mut()).await? {
                // `N:*` includes the highest UID even when it is below N.
                if let (Some(uid), Some(size)) = (item.uid, item.size)
                    && uid > last_uid
                {
                    found.push(MessageInfo { uid, size });
                }
            }
            Ok::<_, ImapError>(found)
        })?;
        found.sort_unstable_by_key(|m| m.uid);
        Ok(found)
    }

    /// Fetches `uids` with one pipelined `UID FETCH (BODY.PEEK[])` (nothing is marked seen)
    /// and hands each message to `each` as it arrives. Messages deleted meanwhile are
    /// skipped. An error from `each` stops the batch: the rest of the response is read and
    /// dropped, and the error is returned as `Ok(Err(e))`.
    pub fn fetch<E>(
        &mut self,
        uids: &[u32],
        mut each: impl FnMut(u32, &[u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, ImapError> {
        if uids.is_empty() {
            return Ok(Ok(()));
        }
        let Parts {
            runtime,
            session,
            host,
            timeout,
        } = self.parts("UID FETCH")?;
        let set = uid_set(uids);
        runtime.block_on(async {
            let mut stream = pin!(
                within(
                    host,
                    timeout,
                    "fetching messages",
                    session.uid_fetch(&set, "(UID BODY.PEEK[])"),
                )
                .await?
            );
            let mut outcome = Ok(());
            while let Some(item) = next(host, timeout, "fetching messages", stream.as_mut()).await?
            {
                if outcome.is_err() {
                    continue;
                }
                if let (Some(uid), Some(body)) = (item.uid, item.body()) {
                    outcome = each(uid, body);
                }
            }
            Ok(outcome)
        })
    }

    /// Applies `action` to `uids` (after their reports were committed).
    pub fn apply(&mut self, action: &Action, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() || *action == Action::Leave {
            return Ok(());
        }
        let (has_move, has_uidplus) = (self.has_move, self.has_uidplus);
        let Parts {
            runtime,
            session,
            host,
            timeout,
        } = self.parts("acting on messages")?;
        let set = uid_set(uids);
        runtime.block_on(async {
            match action {
                Action::Leave => Ok(()),
                Action::Flag(flag) => store_flags(session, host, timeout, &set, flag).await,
                Action::Delete => {
                    store_flags(session, host, timeout, &set, "\\Deleted").await?;
                    expunge(session, host, timeout, &set, has_uidplus).await
                }
                Action::Move(folder) => {
                    let first =
                        move_to(session, host, timeout, &set, folder, has_move, has_uidplus).await;
                    match first {
                        // The usual reason is a missing folder ([TRYCREATE]): create it, retry.
                        Err(ImapError::Protocol {
                            source: async_imap::error::Error::No(_),
                            ..
                        }) => {
                            let _ = within(host, timeout, "CREATE", session.create(folder)).await;
                            move_to(session, host, timeout, &set, folder, has_move, has_uidplus)
                                .await
                        }
                        other => other,
                    }
                }
            }
        })
    }

    /// Waits for the server to announce a change, for at most `period`, or until `stop` is
    /// raised (checked every 200 ms). Without IDLE support it sleeps for `poll_period`.
    pub fn idle(
        &mut self,
        period: Duration,
        poll_period: Duration,
        stop: &AtomicBool,
    ) -> Result<IdleOutcome, ImapError> {
        let stopped = async {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        if !self.has_idle {
            let outcome = self.runtime.block_on(async {
                match select(pin!(tokio::time::sleep(poll_period)), pin!(stopped)).await {
                    Either::Left(_) => IdleOutcome::Timeout,
                    Either::Right(_) => IdleOutcome::Stopped,
                }
            });
            return Ok(outcome);
        }
        let (host, timeout) = (self.host.clone(), self.timeout);
        let session = self.session.take().ok_or_else(|| lost(&host, "IDLE"))?;
        let (session, outcome) = self.runtime.block_on(async {
            let mut handle = session.idle();
            within(&host, timeout, "starting IDLE", handle.init()).await?;
            let outcome = {
                let (wait, interrupt) = handle.wait_with_timeout(period);
                let outcome = match select(pin!(wait), pin!(stopped)).await {
                    Either::Left((Ok(IdleResponse::NewData(_)), _)) => IdleOutcome::Changed,
                    Either::Left((Ok(IdleResponse::Timeout), _)) => IdleOutcome::Timeout,
                    // The response stream ended: the server closed the connection.
                    Either::Left((Ok(IdleResponse::ManualInterrupt), _)) => {
                        return Err(lost(&host, "IDLE"));
                    }
                    Either::Left((Err(source), _)) => {
                        return Err(ImapError::Protocol {
                            host: host.clone(),
                            step: "IDLE",
                            source,
                        });
                    }
                    Either::Right(_) => IdleOutcome::Stopped,
                };
                drop(interrupt);
                outcome
            };
            let session = within(&host, timeout, "ending IDLE", handle.done()).await?;
            Ok::<_, ImapError>((session, outcome))
        })?;
        self.session = Some(session);
        Ok(outcome)
    }

    /// Says goodbye (errors are irrelevant at that point).
    pub fn logout(mut self) {
        if let Some(mut session) = self.session.take() {
            let timeout = self.timeout.min(Duration::from_secs(5));
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(timeout, session.logout()).await });
        }
    }
}

/// The session is gone: an earlier step failed half-way, so the connection is not usable.
fn lost(host: &str, step: &'static str) -> ImapError {
    ImapError::Protocol {
        host: host.to_owned(),
        step,
        source: async_imap::error::Error::ConnectionLost,
    }
}

/// The next item of a response stream, with the timeout.
async fn next<S, T>(
    host: &str,
    timeout: Duration,
    step: &'static str,
    mut stream: std::pin::Pin<&mut S>,
) -> Result<Option<T>, ImapError>
where
    S: futures_util::Stream<Item = async_imap::error::Result<T>>,
{
    match tokio::time::timeout(timeout, stream.next()).await {
        Ok(Some(Ok(item))) => Ok(Some(item)),
        Ok(Some(Err(source))) => Err(ImapError::Protocol {
            host: host.to_owned(),
            step,
            source,
        }),
        Ok(None) => Ok(None),
        Err(_) => Err(ImapError::Timeout {
            host: host.to_owned(),
            step,
            timeout_secs: timeout.as_secs(),
        }),
    }
}

async fn store_flags(
    session: &mut Session<Transport>,
    host: &str,
    timeout: Duration,
    set: &str,
    flag: &str,
) -> Result<(), ImapError> {
    let query = format!("+FLAGS.SILENT ({flag})");
    let stream = within(host, timeout, "UID STORE", session.uid_store(set, &query)).await?;
    drain(host, timeout, "UID STORE", stream).await
}

/// Reads a response stream to its end, ignoring the items (untagged echoes of a change).
async fn drain<S, T>(
    host: &str,
    timeout: Duration,
    step: &'static str,
    stream: S,
) -> Result<(), ImapError>
where
    S: futures_util::Stream<Item = async_imap::error::Result<T>>,
{
    let mut stream = pin!(stream);
    while next(host, timeout, step, stream.as_mut()).await?.is_some() {}
    Ok(())
}

async fn expunge(
    session: &mut Session<Transport>,
    host: &str,
    timeout: Duration,
    set: &str,
    has_uidplus: bool,
) -> Result<(), ImapError> {
    if has_uidplus {
        let stream = within(host, timeout, "UID EXPUNGE", session.uid_expunge(set)).await?;
        drain(host, timeout, "UID EXPUNGE", stream).await
    } else {
        // Without UIDPLUS, EXPUNGE also removes other messages already marked \Deleted.
        let stream = within(host, timeout, "EXPUNGE", session.expunge()).await?;
        drain(host, timeout, "EXPUNGE", stream).await
    }
}

async fn move_to(
    session: &mut Session<Transport>,
    host: &str,
    timeout: Duration,
    set: &str,
    folder: &str,
    has_move: bool,
    has_uidplus: bool,
) -> Result<(), ImapError> {
    if has_move {
        return within(host, timeout, "UID MOVE", session.uid_mv(set, folder)).await;
    }
    within(host, timeout, "UID COPY", session.uid_copy(set, folder)).await?;
    store_flags(session, host, timeout, set, "\\Deleted").await?;
    expunge(session, host, timeout, set, has_uidplus).await
}

/// TCP, TLS or STARTTLS, greeting, login.
async fn login(account: &Account, timeout: Duration) -> Result<Session<Transport>, ImapError> {
    let host = account.host.as_str();
    let tcp = transport::tcp(account, timeout).await?;
    let stream = match account.security {
        Security::Tls => transport::tls(account, tcp).await?,
        Security::Starttls | Security::Plain => Transport::Plain(tcp),
    };
    let mut client = async_imap::Client::new(stream);
    let greeting = within(host, timeout, "reading the greeting", async {
        Ok(client.read_response().await?)
    })
    .await?;
    if greeting.is_none() {
        return Err(ImapError::Protocol {
            host: host.to_owned(),
            step: "reading the greeting",
            source: async_imap::error::Error::ConnectionLost,
        });
    }
    if account.security == Security::Starttls {
        let started = within(
            host,
            timeout,
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await;
        if started.is_err() {
            return Err(ImapError::NoStarttls {
                host: host.to_owned(),
            });
        }
        let Transport::Plain(tcp) = client.into_inner() else {
            return Err(ImapError::NoStarttls {
                host: host.to_owned(),
            });
        };
        client = async_imap::Client::new(transport::tls(account, tcp).await?);
    }
    let secret = secret::resolve(&account.secret, &account.user)?;
    let user = account.user.as_str();
    let attempt = match account.auth {
        AuthMethod::Login => tokio::time::timeout(timeout, client.login(user, &secret)).await,
        AuthMethod::Plain => {
            let auth = PlainAuth {
                user,
                password: &secret,
            };
            tokio::time::timeout(timeout, client.authenticate("PLAIN", auth)).await
        }
        AuthMethod::Xoauth2 => {
            let auth = XOAuth2 {
                user,
                token: &secret,
                is_sent: false,
            };
            tokio::time::timeout(timeout, client.authenticate("XOAUTH2", auth)).await
        }
    };
    match attempt {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((error, _))) => Err(match error {
            async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
                ImapError::Auth {
                    host: host.to_owned(),
                    user: user.to_owned(),
                    reason: server_text(&reason),
                }
            }
            source => ImapError::Protocol {
                host: host.to_owned(),
                step: "logging in",
                source,
            },
        }),
        Err(_) => Err(ImapError::Timeout {
            host: host.to_owned(),
            step: "logging in",
            timeout_secs: timeout.as_secs(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator as _;

    #[test]
    fn uid_sets_are_compact_ranges() {
        assert_eq!(uid_set(&[5, 1, 2, 3, 9, 10, 12]), "1:3,5,9:10,12");
        assert_eq!(uid_set(&[7]), "7");
        assert_eq!(uid_set(&[4, 4, 5]), "4:5");
    }

    #[test]
    fn sasl_responses() {
        let mut plain = PlainAuth {
            user: "dmarc",
            password: "pw",
        };
        assert_eq!(plain.process(b""), b"\0dmarc\0pw");
        let mut xoauth2 = XOAuth2 {
            user: "dmarc@example.com",
            token: "ya29.token",
            is_sent: false,
        };
        assert_eq!(
            xoauth2.process(b""),
            b"user=dmarc@example.com\x01auth=Bearer ya29.token\x01\x01"
        );
        // The server's error challenge is answered with an empty response.
        assert_eq!(xoauth2.process(br#"{"status":"401"}"#), b"");
    }

    #[test]
    fn server_text_is_taken_out_of_the_rendered_outcome() {
        let rendered = r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#;
        assert_eq!(
            server_text(rendered),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_text("plain"), "plain");
    }
}
