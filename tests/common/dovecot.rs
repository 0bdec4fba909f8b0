//! A private Dovecot for the IMAP tests: loopback only, free ports, a passwd-file user,
//! Maildir storage and a self-signed certificate, all in a temporary directory; started as a
//! child process in its own process group so that a test can kill it like a crash.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::TempDir;

pub const USER: &str = "dmarc";
pub const PASSWORD: &str = "s3cret-for-tests";

pub struct Dovecot {
    pub dir: TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn dovecot_binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

impl Dovecot {
    /// Starts a server, or returns None (the test skips) when Dovecot is not installed
    /// outside CI; `make test` installs it.
    pub fn start(name: &str) -> Option<Dovecot> {
        Dovecot::start_with(name, "")
    }

    /// Starts a server with `extra` appended to its configuration.
    pub fn start_with(name: &str, extra: &str) -> Option<Dovecot> {
        if dovecot_binary().is_none() {
            let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !is_ci,
                "dovecot is not installed (make test-deps installs it)"
            );
            eprintln!("skipping: dovecot is not installed (run `make test-deps`)");
            return None;
        }
        let dir = TempDir::new(&format!("dovecot-{name}"));
        let root = &dir.0;
        // The mail user must reach its Maildir below the temporary directory.
        run(Command::new("chmod").arg("755").arg(root));
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
            .arg("-keyout")
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem"))
            .args(["-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            // rustls (webpki) refuses a CA certificate as the server's own.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"]));
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        std::fs::write(root.join("password"), format!("{PASSWORD}\n")).unwrap();
        std::fs::create_dir_all(root.join("mail")).unwrap();
        run(Command::new("chown")
            .arg("-R")
            .arg("mail:mail")
            .arg(root.join("mail")));
        let (imap_port, imaps_port) = (free_port(), free_port());
        let template = rua_testkit::repo_root().join("tests/support/dovecot.conf.in");
        let conf = std::fs::read_to_string(template)
            .unwrap()
            .replace("@ROOT@", &root.display().to_string())
            .replace("@IMAP_PORT@", &imap_port.to_string())
            .replace("@IMAPS_PORT@", &imaps_port.to_string());
        std::fs::write(root.join("dovecot.conf"), conf + extra).unwrap();
        let mut server = Dovecot {
            dir,
            imap_port,
            imaps_port,
            child: None,
        };
        server.launch();
        Some(server)
    }

    fn launch(&mut self) {
        let binary = dovecot_binary().unwrap();
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.0.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.imaps_port)).is_err()
            || TcpStream::connect(("127.0.0.1", self.imap_port)).is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "dovecot did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server and all its processes at once, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // procps' kill reads `-9 -PGID` wrongly; `-s KILL -- -PGID` is the group.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--"])
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.wait();
            let started = Instant::now();
            while TcpStream::connect(("127.0.0.1", self.imaps_port)).is_ok()
                && started.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("dovecot.log")).unwrap_or_default()
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.0.join("cert.pem")
    }

    /// Runs the independent IMAP client (tests/support/imap_tool.py).
    pub fn tool(&self, args: &[&str]) -> String {
        let script = rua_testkit::repo_root().join("tests/support/imap_tool.py");
        let out: Output = Command::new("python3")
            .arg(script)
            .args(args)
            .env("IMAP_PORT", self.imaps_port.to_string())
            .env("IMAP_CA", self.ca())
            .env("IMAP_USER", USER)
            .env("IMAP_PASS", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "imap_tool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// APPENDs every message under `paths` to `folder`, keeping a copy of each in `save_dir`;
    /// returns how many were appended.
    pub fn append(&self, folder: &str, save_dir: &Path, paths: &[&Path]) -> usize {
        let mut args = vec![
            "append".to_owned(),
            folder.to_owned(),
            save_dir.display().to_string(),
        ];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.tool(&args).trim().parse().unwrap()
    }

    /// Every message of `folder`: (uid, flags, Message-ID).
    pub fn messages(&self, folder: &str) -> Vec<(u64, Vec<String>, Option<String>)> {
        self.tool(&["state", folder])
            .lines()
            .map(|line| {
                let mut fields = line.split('\t');
                let uid = fields.next().unwrap().parse().unwrap();
                let flags = fields
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                let id = fields.next().filter(|s| !s.is_empty()).map(str::to_owned);
                (uid, flags, id)
            })
            .collect()
    }

    /// Writes a rua configuration for one mailbox on this server; `extra` is appended to the
    /// `[[mailbox]]` table (e.g. `folder = "Reports"`). Commands time out after 60 s: with
    /// 10 s, a Dovecot restarted after `kill` once failed to answer the first SELECT in time
    /// (a fresh-clone CI run on this 2-core machine).
    pub fn config(&self, db: &Path, extra: &str) -> PathBuf {
        let path = self.dir.0.join(format!("rua-{}.toml", unique()));
        let mut f = std::fs::File::create(&path).unwrap();
        write!(
            f,
            "[database]\npath = {db:?}\nlock_timeout_secs = 30\n\n\
             [[mailbox]]\nname = \"test\"\nhost = \"127.0.0.1\"\nport = {port}\n\
             user = \"{USER}\"\nsecret = {{ file = {secret:?} }}\nca_file = {ca:?}\n\
             timeout_secs = 60\n{extra}\n",
            port = self.imaps_port,
            secret = self.dir.0.join("password"),
            ca = self.ca(),
        )
        .unwrap();
        path
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.kill();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
