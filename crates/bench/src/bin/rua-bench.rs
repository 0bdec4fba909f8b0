//! `rua-bench parse FILE --mode rua|floor|rua-in-memory|floor-in-memory`: reads FILE once and
//! prints one line: `mode bytes seconds mb_per_s peak_rss_bytes records`. `floor` is the bare
//! quick-xml event loop over the same bytes (read and tokenize only), the lower bound rua is
//! measured against. `rua` and `floor` stream the file; the `-in-memory` modes read it first
//! (not timed, and counted in the peak RSS) and parse it in place, as `rua ingest` does with
//! payloads that fit its in-memory limit.
//!
//! `rua-bench files DIR`: the floor for a directory of report files (`floor_files`: each
//! read, inflated and tokenized, on one thread); prints `files xml_bytes seconds cpu_seconds`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, BufReader};
use std::time::Instant;

use rua_bench::{
    cpu_seconds, floor_events, floor_events_in_memory, floor_files, peak_rss_bytes, rua_records,
    rua_records_in_memory,
};

fn floor(path: &str) -> io::Result<u64> {
    floor_events(BufReader::with_capacity(64 * 1024, File::open(path)?))
}

fn rua(path: &str) -> io::Result<u64> {
    rua_records(BufReader::with_capacity(64 * 1024, File::open(path)?))
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some("files"), Some(dir)) = (args.first().map(String::as_str), args.get(1)) {
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let (n_files, n_xml) = floor_files(std::path::Path::new(dir))?;
        let (seconds, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        println!("{n_files} {n_xml} {seconds:.3} {cpu:.2}");
        return Ok(());
    }
    let (Some("parse"), Some(path), Some("--mode"), Some(mode)) = (
        args.first().map(String::as_str),
        args.get(1),
        args.get(2).map(String::as_str),
        args.get(3),
    ) else {
        eprintln!(
            "usage: rua-bench parse FILE --mode rua|floor|rua-in-memory|floor-in-memory, or rua-bench files DIR"
        );
        std::process::exit(2)
    };
    let bytes = std::fs::metadata(path)?.len();
    let in_memory = match mode.as_str() {
        "floor-in-memory" | "rua-in-memory" => std::fs::read(path)?,
        _ => Vec::new(),
    };
    let started = Instant::now();
    let count = match mode.as_str() {
        "floor" => floor(path)?,
        "rua" => rua(path)?,
        "floor-in-memory" => floor_events_in_memory(&in_memory)?,
        "rua-in-memory" => rua_records_in_memory(&in_memory)?,
        _ => {
            eprintln!("unknown mode {mode}");
            std::process::exit(2)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let mb_per_s = bytes as f64 / 1e6 / seconds;
    println!(
        "{mode} {bytes} {seconds:.3} {mb_per_s:.1} {} {count}",
        peak_rss_bytes()
    );
    Ok(())
}
