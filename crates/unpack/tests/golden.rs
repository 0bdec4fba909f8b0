//! Every container fixture in `sample-reports/` and every non-XML file of the shared corpus
//! unpacks to the payloads listed in `tests/expect/*.txt`: kind, provenance chain, file name,
//! the payload's size, and the size of its gzip form when it comes with one (which must
//! decompress to the payload). `UPDATE_EXPECT=1` regenerates the lists.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use rua_testkit::{check_expect, corpus, crate_dir, files_below, sample_reports};
use rua_unpack::{Limits, Payload, Provenance, UnpackError, Visitor, unpack_path};

/// Lists what it is shown, one line per payload or reject.
struct Lister {
    base: PathBuf,
    out: String,
}

impl Lister {
    fn where_(&self, p: &Provenance) -> String {
        let source = Path::new(&p.source);
        let rel = source.strip_prefix(&self.base).unwrap_or(source);
        let mut s = rel.display().to_string();
        for link in &p.chain {
            write!(s, " > {link}").unwrap();
        }
        s
    }
}

impl Visitor for Lister {
    type Error = std::convert::Infallible;

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), Self::Error> {
        let mut data = Vec::new();
        let read = payload.reader.read_to_end(&mut data);
        let mut status = match read {
            Ok(n) => format!("{n} bytes"),
            Err(e) => format!("error after {} bytes: {e}", data.len()),
        };
        // The compressed form handed over decompresses to exactly the payload.
        if let Some(gzip) = payload.gzip {
            let mut inflated = Vec::new();
            flate2::read::MultiGzDecoder::new(gzip)
                .read_to_end(&mut inflated)
                .unwrap();
            assert!(
                inflated == data,
                "{}: gzip form differs",
                payload.provenance
            );
            write!(status, ", as {} gzipped", gzip.len()).unwrap();
        }
        let message = payload.provenance.message.as_ref();
        let subject = message.and_then(|m| m.subject.as_deref()).unwrap_or("-");
        writeln!(
            self.out,
            "{}: {} ({status}) name={:?} subject={subject:?}",
            self.where_(payload.provenance),
            payload.kind.as_str(),
            payload.provenance.file_name.as_deref().unwrap_or("-"),
        )
        .unwrap();
        Ok(())
    }

    fn reject(
        &mut self,
        p: &Provenance,
        error: UnpackError,
        bytes: Option<&[u8]>,
    ) -> Result<(), Self::Error> {
        let kept = bytes.map_or("no bytes".to_owned(), |b| format!("{} bytes kept", b.len()));
        writeln!(
            self.out,
            "{}: reject {} ({error}) ({kept})",
            self.where_(p),
            error.code()
        )
        .unwrap();
        Ok(())
    }
}

fn list(base: &Path, inputs: &[PathBuf]) -> String {
    let mut lister = Lister {
        base: base.to_path_buf(),
        out: String::new(),
    };
    for input in inputs {
        unpack_path(&base.join(input), &Limits::default(), &mut lister).unwrap();
    }
    lister.out
}

fn expect(name: &str) -> PathBuf {
    crate_dir(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expect")
        .join(name)
}

#[test]
fn container_fixtures_unpack_to_their_payloads() {
    let base = sample_reports();
    // The directory is walked as a user would hand it over: one input.
    let out = list(&base, &[PathBuf::from("containers")]);
    for needle in [
        "google-single-part-zip.eml > message > part 1 application/zip",
        // The RFC 2231 continuation (`name*0`, `name*1`) joined into one file name.
        "amazonses.com!example.com!1732665600!1732752000.xml.gz",
        "forwarded-message-rfc822.eml > message > part 1.2 message/rfc822 > message",
        "mimecast-trailing-crlf.xml.gz > gzip: aggregate",
        "double-gzip.xml.gz.gz > gzip > gzip: aggregate",
        "zip member \"\": aggregate",
        "three-mails.mbox > mbox message 3 > message: not_report",
        "maildir/new/",
        "no-report.eml > message: not_report",
        "empty-file.xml.gz: not_report (0 bytes)",
        "smtp_tls",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let problems: Vec<_> = check_expect(&expect("sample-reports.txt"), &out)
        .into_iter()
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_containers_unpack_to_their_payloads() {
    let Some(corpus) = corpus() else { return };
    let inputs: Vec<_> = files_below(&corpus)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "xml" && e != "tsv"))
        .collect();
    assert!(
        inputs.len() > 50,
        "only {} container files in the corpus",
        inputs.len()
    );
    let out = list(&corpus, &inputs);
    // Every aggregate mail and archive yields at least one aggregate payload.
    for input in inputs.iter().filter(|p| p.starts_with("aggregate")) {
        let prefix = format!("{}", input.display());
        assert!(
            out.lines()
                .any(|l| l.starts_with(&prefix) && l.contains(": aggregate (")),
            "{prefix} yields no aggregate payload:\n{out}"
        );
    }
    let problems: Vec<_> = check_expect(&expect("corpus.txt"), &out)
        .into_iter()
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Inputs the fuzzer found: each unpacks to something (a payload or a reject), never a panic.
#[test]
fn fuzz_regressions_unpack_without_panicking() {
    let dir = crate_dir(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    for rel in files_below(&dir) {
        let bytes = std::fs::read(dir.join(&rel)).unwrap();
        let mut lister = Lister {
            base: dir.clone(),
            out: String::new(),
        };
        rua_unpack::unpack_message("fuzz", &bytes, &Limits::default(), &mut lister).unwrap();
        assert!(!lister.out.is_empty(), "{} yielded nothing", rel.display());
    }
}
