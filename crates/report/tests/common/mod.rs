//! What the golden-file tests share: rendering a coded value, and checking every payload of
//! one kind found below a directory (as `rua ingest` finds them) against its expected file.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use rua_report::{Coded, Vocabulary};
use rua_testkit::{check_expect, files_below, remove_expect};
use rua_unpack::{Payload, PayloadKind, Provenance, UnpackError, Visitor};

/// A coded value as the golden files show it: the word, the normalized word with what was
/// written, or `?` with what was written when rua does not know it.
pub fn coded<T: Vocabulary>(c: &Coded<T>) -> String {
    match (&c.raw, c.value) {
        (None, _) => "-".to_owned(),
        (Some(raw), Some(v)) if raw == v.as_str() => raw.to_string(),
        (Some(raw), Some(v)) => format!("{}(raw {raw:?})", v.as_str()),
        (Some(raw), None) => format!("?(raw {raw:?})"),
    }
}

/// The payloads of one kind in one input.
struct Found {
    kind: PayloadKind,
    payloads: Vec<Vec<u8>>,
}

impl Visitor for Found {
    type Error = std::convert::Infallible;

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), Self::Error> {
        if payload.kind == self.kind {
            let mut bytes = Vec::new();
            payload.reader.read_to_end(&mut bytes).unwrap();
            self.payloads.push(bytes);
        }
        Ok(())
    }

    fn reject(
        &mut self,
        _: &Provenance,
        _: UnpackError,
        _: Option<&[u8]>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Checks every payload of `kind` below `base` against `<expect_dir>/<file>[.N].txt` (what
/// `render` made of it) or `.err` (why it failed). The input's whole name is kept, so
/// `rpt01.eml.txt` and `rpt01.json.txt` are two files. Returns how many rendered and how
/// many failed.
pub fn check_below(
    base: &Path,
    kind: PayloadKind,
    expect_dir: &Path,
    render: impl Fn(&[u8]) -> Result<String, String>,
    problems: &mut Vec<String>,
) -> (usize, usize) {
    let (mut n_ok, mut n_err) = (0, 0);
    for rel in files_below(base) {
        let mut found = Found {
            kind,
            payloads: Vec::new(),
        };
        rua_unpack::unpack_path(&base.join(&rel), &rua_unpack::Limits::default(), &mut found)
            .unwrap();
        for (i, bytes) in found.payloads.iter().enumerate() {
            let mut expect = expect_dir.join(&rel).into_os_string();
            if i > 0 {
                expect.push(format!(".{i}"));
            }
            let with = |ext: &str| {
                let mut path = expect.clone();
                path.push(ext);
                PathBuf::from(path)
            };
            let (write, remove, text) = match render(bytes) {
                Ok(text) => {
                    n_ok += 1;
                    (with(".txt"), with(".err"), text)
                }
                Err(text) => {
                    n_err += 1;
                    (with(".err"), with(".txt"), text)
                }
            };
            problems.extend(check_expect(&write, &text));
            problems.extend(remove_expect(&remove));
        }
    }
    (n_ok, n_err)
}
