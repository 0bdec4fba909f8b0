//! The byte stream under IMAP: TCP, TLS from the start, or TCP upgraded by STARTTLS.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::{Account, ImapError, Security};

/// A connection to the server, encrypted or (to loopback only) not.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Certificate authorities: the configured CA file, else the system's.
fn tls_config(account: &Account) -> Result<Arc<ClientConfig>, ImapError> {
    let mut roots = RootCertStore::empty();
    match &account.ca_file {
        Some(path) => {
            let fail = |reason: String| ImapError::CaFile {
                path: path.clone(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| fail(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail(e.to_string()))?;
            if certs.is_empty() {
                return Err(fail("it holds no certificate".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| fail(e.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::debug!("system certificates: {error}");
            }
            let (n_added, _) = roots.add_parsable_certificates(found.certs);
            tracing::debug!("{n_added} system certificate authorities");
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Tls {
            host: account.host.clone(),
            source: io::Error::other(e),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens the TCP connection, refusing plaintext to anything but loopback.
pub(crate) async fn tcp(account: &Account, timeout: Duration) -> Result<TcpStream, ImapError> {
    let (host, port) = (account.host.as_str(), account.port());
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| ImapError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    if account.security == Security::Plain && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(ImapError::PlaintextNotLoopback {
            host: host.to_owned(),
        });
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "connection timed out"),
        }
    }
    Err(ImapError::Connect {
        host: host.to_owned(),
        port,
        source: last,
    })
}

/// Runs the TLS handshake over `tcp`, verifying the certificate for the configured host.
pub(crate) async fn tls(account: &Account, tcp: TcpStream) -> Result<Transport, ImapError> {
    let fail = |source: io::Error| ImapError::Tls {
        host: account.host.clone(),
        source,
    };
    let name = ServerName::try_from(account.host.clone())
        .map_err(|e| fail(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    let connector = TlsConnector::from(tls_config(account)?);
    let stream = connector.connect(name, tcp).await.map_err(fail)?;
    Ok(Transport::Tls(Box::new(stream)))
}
