//! Decompression bombs are refused at the cap while memory stays flat. This is its own test
//! binary so that the process's peak RSS (`VmHWM`) measures these inputs alone.

#![allow(clippy::unwrap_used)]

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use rua_unpack::{Limits, Payload, Provenance, UnpackError, Visitor, limit_exceeded, unpack_path};

/// Drains payloads through a small buffer and keeps only the outcome codes.
#[derive(Default)]
struct Outcomes(Vec<String>);

impl Visitor for Outcomes {
    type Error = std::convert::Infallible;

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), Self::Error> {
        let code = match io::copy(payload.reader, &mut io::sink()) {
            Ok(_) => format!("payload {}", payload.kind.as_str()),
            Err(e) => match limit_exceeded(&e) {
                Some(l) => format!("limit_decompressed {}", l.limit),
                None => format!("read error {e}"),
            },
        };
        self.0.push(code);
        Ok(())
    }

    fn reject(
        &mut self,
        _: &Provenance,
        error: UnpackError,
        _: Option<&[u8]>,
    ) -> Result<(), Self::Error> {
        self.0.push(error.code().to_owned());
        Ok(())
    }
}

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn outcomes(path: &std::path::Path) -> Vec<String> {
    let mut seen = Outcomes::default();
    unpack_path(path, &Limits::default(), &mut seen).unwrap();
    seen.0
}

#[test]
fn bombs_are_refused_with_flat_memory() {
    let dir = std::env::temp_dir().join(format!("rua-bombs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let limits = Limits::default();

    // A gzip of about a megabyte that inflates past the default 1 GiB cap.
    let zeros = vec![0u8; 1 << 20];
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    for _ in 0..(limits.max_decompressed_bytes >> 20) + 64 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 8 << 20, "gzip bomb is {} bytes", bomb.len());
    std::fs::write(dir.join("bomb.xml.gz"), &bomb).unwrap();
    let seen = outcomes(&dir.join("bomb.xml.gz"));
    assert_eq!(
        seen,
        [format!(
            "limit_decompressed {}",
            limits.max_decompressed_bytes
        )]
    );

    // A zip with one member more than allowed.
    let mut zipped = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    for i in 0..=limits.max_zip_members {
        zipped
            .start_file(
                format!("r{i}.xml"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        zipped.write_all(b"<feedback/>").unwrap();
    }
    std::fs::write(dir.join("many.zip"), zipped.finish().unwrap().into_inner()).unwrap();
    assert_eq!(outcomes(&dir.join("many.zip")), ["limit_zip_members"]);

    // Gzip nested one level deeper than allowed.
    let mut nested = b"<feedback/>".to_vec();
    for _ in 0..=limits.max_depth {
        nested = gzip(&nested);
    }
    std::fs::write(dir.join("deep.gz"), &nested).unwrap();
    assert_eq!(outcomes(&dir.join("deep.gz")), ["limit_depth"]);

    // The largest allocation above is the bomb itself (about a megabyte) and 1 MiB of zeros.
    let peak = peak_rss_bytes();
    assert!(peak < 100 << 20, "peak RSS {} MiB", peak >> 20);
    std::fs::remove_dir_all(&dir).unwrap();
}
