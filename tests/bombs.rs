//! Hostile inputs through the whole command: `rua ingest` and `rua fetch` reject every bomb,
//! keep it, go on, and the rua process's peak resident memory (its VmHWM, as the kernel
//! accounts it) stays under 100 MB. The bombs are made once and kept in the temporary directory.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::dovecot::Dovecot;
use common::{TempDir, peak_rss, rua_command, sql};
use flate2::Compression;
use flate2::write::GzEncoder;

const PEAK_LIMIT: u64 = 100 << 20;
const REJECTS: i32 = 1;
/// What rua reads of a payload that is not a report before it stops (IN_MEMORY_BYTES).
const NOT_REPORT_READ: u64 = 8 << 20;

/// Writes `total` bytes of `pattern` (repeated) into a gzip encoder.
fn gzip_of_repeated(out: impl Write, prefix: &[u8], pattern: &[u8], total: u64, suffix: &[u8]) {
    let mut enc = GzEncoder::new(out, Compression::best());
    enc.write_all(prefix).unwrap();
    let chunk = pattern.repeat((1 << 20) / pattern.len());
    let mut written = 0;
    while written < total {
        let n = (total - written).min(chunk.len() as u64) as usize;
        enc.write_all(&chunk[..n]).unwrap();
        written += n as u64;
    }
    enc.write_all(suffix).unwrap();
    enc.finish().unwrap();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    gzip_of_repeated(&mut out, data, b" ", 0, b"");
    out
}

/// A zip archive of `members` (name, content), each deflated unless `stored`.
fn zip(members: &[(String, Vec<u8>)], stored: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true);
    for (name, content) in members {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A mail with `attachment` (base64) named `name`, as a reporter would send it.
fn mail(name: &str, attachment: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(attachment);
    let mut mail = format!(
        "From: noreply-dmarc@reporter.example\r\nTo: dmarc@example.com\r\n\
         Subject: Report Domain: example.com Submitter: reporter.example\r\n\
         Message-ID: <{name}@reporter.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n\
         --b\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    for line in encoded.as_bytes().chunks(76) {
        mail.extend_from_slice(line);
        mail.extend_from_slice(b"\r\n");
    }
    mail.extend_from_slice(b"--b--\r\n");
    mail
}

/// One bomb: its file name and the reject codes rua must store for it.
struct Bomb {
    name: &'static str,
    codes: &'static [&'static str],
}

const BOMBS: &[Bomb] = &[
    // 2 GiB of zeros in a 2 MB gzip: not a report, kept as the gzip it came as.
    Bomb {
        name: "zeros.xml.gz",
        codes: &["not_report"],
    },
    // More members than the limit.
    Bomb {
        name: "many-members.zip",
        codes: &["limit_zip_members"],
    },
    // Members of 64 MiB of zeros each: each is read no further than it takes to tell.
    Bomb {
        name: "big-members.zip",
        codes: &["not_report"; 20],
    },
    // A report whose <org_name> holds 200 MB of text.
    Bomb {
        name: "long-org-name.xml.gz",
        codes: &["limit_text"],
    },
    // A mail with 200 MB of text (not a report) in a gzip attachment.
    Bomb {
        name: "notes-attachment.eml",
        codes: &["not_report"],
    },
    // Gzip in gzip in gzip ... past the nesting limit.
    Bomb {
        name: "deep.gz",
        codes: &["limit_depth"],
    },
    // A gzip holding a zip whose one stored member is 300 MB of zeros: the zip is read from
    // a temporary file, not from memory.
    Bomb {
        name: "zip-in-gzip.gz",
        codes: &["not_report"],
    },
];

/// The bombs, made once and kept in the temporary directory for later runs (they are
/// deterministic; change the version in the name when they change).
fn bombs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let done = std::env::temp_dir().join("rua-bombs-e2e-v2");
        if done.join("complete").exists() {
            return done;
        }
        let dir = std::env::temp_dir().join(format!("rua-bombs-e2e-v2.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();

        gzip_of_repeated(file("zeros.xml.gz"), b"", &[0], 2 << 30, b"");

        let tiny: Vec<_> = (0..1001)
            .map(|i| (format!("r{i}.xml"), b"<feedback/>".to_vec()))
            .collect();
        std::fs::write(dir.join("many-members.zip"), zip(&tiny, false)).unwrap();

        // Each member its own bytes, or the copies would be one reject stored once.
        let big: Vec<_> = (0..20u8)
            .map(|i| {
                let mut zeros = vec![0u8; 64 << 20];
                zeros[0] = b'a' + i;
                (format!("z{i}.xml"), zeros)
            })
            .collect();
        std::fs::write(dir.join("big-members.zip"), zip(&big, false)).unwrap();
        drop(big);

        gzip_of_repeated(
            file("long-org-name.xml.gz"),
            b"<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>",
            b"A",
            200 << 20,
            b"</org_name><report_id>r1</report_id><date_range><begin>1700000000</begin>\
              <end>1700086399</end></date_range></report_metadata><policy_published>\
              <domain>example.com</domain></policy_published></feedback>",
        );

        let mut notes = Vec::new();
        gzip_of_repeated(
            &mut notes,
            b"",
            b"Minutes of the meeting, nothing to do with DMARC. ",
            200 << 20,
            b"",
        );
        std::fs::write(
            dir.join("notes-attachment.eml"),
            mail("notes.txt.gz", &notes),
        )
        .unwrap();

        let mut deep = b"<feedback/>".to_vec();
        for _ in 0..8 {
            deep = gzip(&deep);
        }
        std::fs::write(dir.join("deep.gz"), deep).unwrap();

        let stored = zip(&[("zeros.bin".to_owned(), vec![0u8; 300 << 20])], true);
        std::fs::write(dir.join("zip-in-gzip.gz"), gzip(&stored)).unwrap();
        std::fs::write(dir.join("complete"), b"").unwrap();
        // Another run may have finished first: its bombs are the same.
        let _ = std::fs::remove_dir_all(&done);
        match std::fs::rename(&dir, &done) {
            Ok(()) => done,
            Err(_) => dir,
        }
    })
}

/// The reject codes stored, sorted, and the largest kept copy (compressed, as stored).
fn rejects(db: &Path) -> (Vec<String>, u64) {
    let rows = sql(
        db,
        "SELECT reason_code, coalesce(octet_length(raw_gz), 0) FROM rejects ORDER BY reason_code",
    );
    let codes = rows.iter().map(|r| r[0].clone()).collect();
    let largest = rows
        .iter()
        .map(|r| r[1].parse().unwrap())
        .max()
        .unwrap_or(0);
    (codes, largest)
}

#[test]
fn ingest_rejects_every_bomb_with_flat_memory() {
    let dir = TempDir::new("bombs-ingest");
    for bomb in BOMBS {
        let db = dir.0.join(format!("{}.duckdb", bomb.name));
        let input = bombs().join(bomb.name);
        let started = std::time::Instant::now();
        let (out, peak) = peak_rss(&rua_command(&db, &["ingest", input.to_str().unwrap()]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(REJECTS), "{}: {stderr}", bomb.name);
        assert!(
            peak < PEAK_LIMIT,
            "{}: peak resident memory {} MiB",
            bomb.name,
            peak >> 20
        );
        let (codes, largest) = rejects(&db);
        assert_eq!(codes, bomb.codes, "{}: {stderr}", bomb.name);
        // What is kept is what arrived (or what was read), never what a bomb inflates to.
        let size = std::fs::metadata(&input).unwrap().len();
        assert!(
            largest <= size.max(NOT_REPORT_READ),
            "{}: kept {largest} bytes",
            bomb.name
        );
        eprintln!(
            "{}: {:?}, peak {} MiB",
            bomb.name,
            started.elapsed(),
            peak >> 20
        );
    }
}

#[test]
fn the_bombs_are_told_apart_as_a_user_would_see_them() {
    let dir = TempDir::new("bombs-detail");
    let db = dir.db();
    let zeros = bombs().join("zeros.xml.gz");
    let text = bombs().join("long-org-name.xml.gz");
    let out = rua_command(
        &db,
        &["ingest", zeros.to_str().unwrap(), text.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(REJECTS));
    let rows = sql(
        &db,
        "SELECT reason_code, payload_bytes, replace(reason, ',', ';') FROM rejects ORDER BY reject_key",
    );
    // The gzip is kept byte for byte as it arrived: 2 MB, not 2 GiB.
    let zeros_len = std::fs::metadata(&zeros).unwrap().len().to_string();
    assert_eq!(rows[0][0], "not_report");
    assert_eq!(rows[0][1], zeros_len);
    assert!(rows[0][2].contains("more than 8388608 bytes"), "{rows:?}");
    assert_eq!(rows[1][0], "limit_text");
    assert!(
        rows[1][2].contains("limit of 1048576 bytes at <feedback/report_metadata/org_name>"),
        "{rows:?}"
    );
}

#[test]
fn fetch_rejects_every_bomb_in_a_mailbox_with_flat_memory() {
    let Some(server) = Dovecot::start("bombs") else {
        return;
    };
    let dir = TempDir::new("bombs-fetch");
    let saved = dir.0.join("saved");
    let good = rua_testkit::sample_reports().join("aggregate/ok/google-np.xml");
    let mut inputs: Vec<PathBuf> = BOMBS.iter().map(|b| bombs().join(b.name)).collect();
    inputs.push(good);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    assert_eq!(server.append("INBOX", &saved, &inputs), BOMBS.len() + 1);

    let db = dir.0.join("fetched.duckdb");
    let config = server.config(&db, "");
    let mut command = std::process::Command::new(common::RUA);
    command
        .arg("--config")
        .arg(&config)
        .arg("fetch")
        .env_remove("RUA_DB")
        .env_remove("RUA_LOG");
    let (out, peak) = peak_rss(&command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(REJECTS), "{stderr}");
    assert!(peak < PEAK_LIMIT, "peak resident memory {} MiB", peak >> 20);
    let (codes, _) = rejects(&db);
    let mut expected: Vec<String> = BOMBS
        .iter()
        .flat_map(|b| b.codes.iter().map(|c| (*c).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(codes, expected, "{stderr}");
    assert_eq!(
        common::number(&db, "SELECT count(*) FROM reports"),
        1,
        "the good report beside the bombs"
    );
}
