//! `rua-gen report --records N [--style S] [--seed N] [--out FILE]`: writes one generated
//! aggregate report (to stdout by default) and prints its counts to stderr.
//! `rua-gen corpus --reports N --out DIR [--seed N] [--container C]`: writes N typical
//! reports (1 to 50 records) as .xml.gz and .zip files (the default, `mixed`), or all as
//! `xml`, `gz`, `zip`, `eml` (one mail each, base64 attachment), `mbox` (one file) or
//! `maildir` (one mail each in `cur/`, ready for a mail server).

#![allow(clippy::print_stderr)]

use std::io::{self, BufWriter, Write};

use rua_bench::{Container, Spec, Style, write_report};

fn usage() -> ! {
    eprintln!(
        "usage: rua-gen report --records N [--style google|microsoft|yahoo|mailru|gmx|cisco|amazonses] [--seed N] [--out FILE]"
    );
    eprintln!(
        "       rua-gen corpus --reports N --out DIR [--seed N] [--container mixed|xml|gz|zip|eml|mbox|maildir]"
    );
    std::process::exit(2)
}

fn corpus(args: &[String]) -> io::Result<()> {
    let (mut n, mut out, mut seed, mut only) = (0u64, None, 1u64, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--reports" => n = value.parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = value.parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(std::path::PathBuf::from(value)),
            "--container" if value == "mixed" => only = None,
            "--container" => only = Some(Container::parse(value).unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let out = out.unwrap_or_else(|| usage());
    let written = rua_bench::write_corpus(&out, n, seed, only)?;
    eprintln!(
        "reports={n} records={} messages={} xml_bytes={}",
        written.n_records, written.n_messages, written.n_bytes
    );
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("corpus") {
        return corpus(&args[1..]);
    }
    if args.first().map(String::as_str) != Some("report") {
        usage();
    }
    let mut spec = Spec {
        style: Style::Google,
        report_id: String::new(),
        domain: "example.com".into(),
        begin: 1_732_752_000,
        n_records: 1,
        seed: 1,
    };
    let mut out: Option<String> = None;
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--records" => spec.n_records = value.parse().unwrap_or_else(|_| usage()),
            "--seed" => spec.seed = value.parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(value.clone()),
            "--style" => {
                spec.style = match value.as_str() {
                    "google" => Style::Google,
                    "microsoft" => Style::Microsoft,
                    "yahoo" => Style::Yahoo,
                    "mailru" => Style::MailRu,
                    "gmx" => Style::Gmx,
                    "cisco" => Style::Cisco,
                    "amazonses" => Style::AmazonSes,
                    _ => usage(),
                }
            }
            _ => usage(),
        }
    }
    spec.report_id = format!("gen-{}-{}", spec.seed, spec.n_records);
    let written = match out {
        Some(path) => write_report(&spec, BufWriter::new(std::fs::File::create(path)?))?,
        None => write_report(&spec, BufWriter::new(io::stdout().lock()))?,
    };
    io::stdout().flush()?;
    eprintln!(
        "records={} messages={} bytes={}",
        written.n_records, written.n_messages, written.n_bytes
    );
    Ok(())
}
