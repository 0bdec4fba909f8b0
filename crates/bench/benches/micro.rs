//! Micro-benchmarks (criterion): rua's parser against the bare quick-xml event loop over the
//! same bytes (the floor), and the unpackers (gzip, zip, a report mail with a base64
//! attachment) on typical reports. `cargo bench --release -p rua-bench --bench micro`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rua_bench::{Spec, Style, floor_events, gzip, report_mail, rua_records, write_report, zip_of};
use rua_unpack::{Limits, Payload, Provenance, UnpackError, Visitor};

fn report(n_records: u64) -> (Spec, Vec<u8>) {
    let spec = Spec {
        style: Style::Google,
        report_id: format!("micro-{n_records}"),
        domain: "example.com".into(),
        begin: 1_732_752_000,
        n_records,
        seed: 42,
    };
    let mut xml = Vec::new();
    write_report(&spec, &mut xml).unwrap();
    (spec, xml)
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for n in [1, 25, 1000] {
        let (_, xml) = report(n);
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_function(format!("floor/{n}-records"), |b| {
            b.iter(|| floor_events(black_box(xml.as_slice())).unwrap())
        });
        group.bench_function(format!("rua/{n}-records"), |b| {
            b.iter(|| rua_records(black_box(xml.as_slice())).unwrap())
        });
    }
    group.finish();
}

/// Reads every payload through rua's parser, as `rua ingest` does.
struct Parse(u64);

impl Visitor for Parse {
    type Error = std::io::Error;
    fn payload(&mut self, p: Payload<'_>) -> Result<(), Self::Error> {
        self.0 += rua_records(&mut *p.reader)?;
        Ok(())
    }
    fn reject(
        &mut self,
        p: &Provenance,
        e: UnpackError,
        _: Option<&[u8]>,
    ) -> Result<(), Self::Error> {
        Err(std::io::Error::other(format!("{p}: {e}")))
    }
}

fn unpack(c: &mut Criterion) {
    let (spec, xml) = report(25);
    let gz = gzip(&xml).unwrap();
    let zip = zip_of("report.xml", &xml).unwrap();
    let mail = report_mail(&spec, "report.xml.gz", &gz, "\r\n");
    let limits = Limits::default();
    let mut group = c.benchmark_group("unpack+parse 25 records");
    group.throughput(Throughput::Bytes(xml.len() as u64));
    for (name, bytes) in [("xml", &xml), ("gzip", &gz), ("zip", &zip)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut v = Parse(0);
                rua_unpack::unpack_reader("bench", black_box(bytes.as_slice()), &limits, &mut v)
                    .unwrap();
                assert_eq!(v.0, 25);
            })
        });
    }
    group.bench_function("mail with base64 gzip", |b| {
        b.iter(|| {
            let mut v = Parse(0);
            rua_unpack::unpack_message("bench", black_box(&mail), &limits, &mut v).unwrap();
            assert_eq!(v.0, 25);
        })
    });
    group.finish();
}

criterion_group!(benches, parse, unpack);
criterion_main!(benches);
