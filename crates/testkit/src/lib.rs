//! Helpers for rua's tests: where the shared corpus and the fixtures are, and golden files.
//!
//! The shared corpus lives beside the repository (`../shared/corpus`, or `RUA_CORPUS`). Outside
//! CI a test that needs it skips with a message when it is absent; with `CI=true` its absence
//! is a failure.

#![allow(clippy::print_stderr, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    // Cargo sets CARGO_MANIFEST_DIR when it runs a test, so the checkout being tested is
    // found even when this crate was compiled in another checkout sharing the target
    // directory (the path baked in at compile time is only the fallback).
    let mut dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    while !dir.join("sample-reports").is_dir() {
        assert!(
            dir.pop(),
            "no sample-reports/ above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

/// The directory of the crate whose test is running, in the checkout being tested: cargo's
/// CARGO_MANIFEST_DIR at run time, else `compiled_in` (pass `env!("CARGO_MANIFEST_DIR")`).
/// Paths baked in at compile time point into whichever checkout last compiled the test.
pub fn crate_dir(compiled_in: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(compiled_in), PathBuf::from)
}

/// `sample-reports/` in the repository.
pub fn sample_reports() -> PathBuf {
    repo_root().join("sample-reports")
}

/// The shared corpus, or `None` (with a message) when it is absent outside CI.
///
/// # Panics
/// When the corpus is absent and `CI=true`.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("RUA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"));
    if dir.join("MANIFEST.tsv").is_file() {
        return Some(dir);
    }
    let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !is_ci,
        "the shared corpus is missing at {} (CI=true requires it)",
        dir.display()
    );
    eprintln!(
        "skipping: the shared corpus is not at {} (set RUA_CORPUS)",
        dir.display()
    );
    None
}

/// Every file below `dir`, sorted, as paths relative to `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Whether expected files are being regenerated (`UPDATE_EXPECT=1`).
pub fn is_updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Compares `actual` with the expected file, or rewrites it under `UPDATE_EXPECT=1`.
/// Returns a description of the mismatch, if any, so a test can report every file at once.
pub fn check_expect(expect_file: &Path, actual: &str) -> Option<String> {
    if is_updating() {
        fs::create_dir_all(expect_file.parent().unwrap()).unwrap();
        fs::write(expect_file, actual).unwrap();
        return None;
    }
    match fs::read_to_string(expect_file) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b);
            let line = line.unwrap_or(expected.lines().count().min(actual.lines().count()));
            let want = expected.lines().nth(line).unwrap_or("<end>");
            let got = actual.lines().nth(line).unwrap_or("<end>");
            Some(format!(
                "{}: line {}\n  expected: {want}\n  actual:   {got}",
                expect_file.display(),
                line + 1
            ))
        }
        Err(_) => Some(format!(
            "{}: missing (run with UPDATE_EXPECT=1)",
            expect_file.display()
        )),
    }
}

/// Removes an expected file that no longer applies (under `UPDATE_EXPECT=1`).
pub fn remove_expect(expect_file: &Path) -> Option<String> {
    if !expect_file.exists() {
        return None;
    }
    if is_updating() {
        fs::remove_file(expect_file).unwrap();
        return None;
    }
    Some(format!(
        "{}: exists but should not (run with UPDATE_EXPECT=1)",
        expect_file.display()
    ))
}
