//! DNS servers for the enrichment tests, on loopback: Debian's dnsmasq serving the records a
//! test gives it (and NXDOMAIN for every other name in its zones), and a socket that never
//! answers.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TempDir;

const BINARY: &str = "/usr/sbin/dnsmasq";

pub struct Dnsmasq {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the server at `port` answers a query (any answer).
fn answers(port: u16) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // A query for `ready.test.` A.
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["ready", "test"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    socket.send_to(&query, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 512];
    socket.recv(&mut buf).is_ok()
}

impl Dnsmasq {
    /// Starts dnsmasq with `records` (dnsmasq configuration lines: host-record, ptr-record,
    /// synth-domain, ...), authoritative for the reverse zones, `.test` and `.com`; or returns
    /// None (the test skips) when dnsmasq is not installed outside CI (`make test-deps`).
    pub fn start(name: &str, records: &str) -> Option<Dnsmasq> {
        if !Path::new(BINARY).is_file() {
            let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !is_ci,
                "dnsmasq is not installed (make test-deps installs it)"
            );
            eprintln!("skipping: dnsmasq is not installed (run `make test-deps`)");
            return None;
        }
        let dir = TempDir::new(&format!("dnsmasq-{name}"));
        for _ in 0..5 {
            let port = free_udp_port();
            let conf = dir.0.join("dnsmasq.conf");
            std::fs::write(
                &conf,
                format!(
                    "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n\
                     keep-in-foreground\npid-file=\nlocal=/in-addr.arpa/\nlocal=/ip6.arpa/\n\
                     local=/test/\nlocal=/com/\nlocal=/net/\ncache-size=0\n{records}\n"
                ),
            )
            .unwrap();
            let mut child = Command::new(BINARY)
                .arg(format!("--conf-file={}", conf.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                if answers(port) {
                    return Some(Dnsmasq {
                        port,
                        child,
                        _dir: dir,
                    });
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("dnsmasq did not start");
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A UDP socket that receives queries and never answers: a dead name server.
pub struct Silent(UdpSocket);

impl Silent {
    pub fn bind() -> Silent {
        Silent(UdpSocket::bind("127.0.0.1:0").unwrap())
    }

    pub fn address(&self) -> String {
        self.0.local_addr().unwrap().to_string()
    }
}
