//! Any bytes: the parser returns a report or an error, never panics, the records it hands
//! out agree with its counts, and a stream cut into small windows (1 to 64 bytes, chosen by
//! the input's length) parses exactly as the bytes in memory do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rua_report::aggregate::{Record, parse_bytes, parse_in_windows};

fuzz_target!(|data: &[u8]| {
    let mut records = Vec::new();
    let Ok(result) = parse_bytes(data, &mut |r: &Record| records.push(r.clone()));
    if let Ok(report) = &result {
        assert_eq!(report.n_records, records.len() as u64);
        let n_messages = records
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.count));
        assert_eq!(report.n_messages, n_messages);
        assert!(!report.report_id.is_empty());
    }
    let window = 1 + data.len() % 64;
    let mut streamed = Vec::new();
    let Ok(again) = parse_in_windows(data, &mut |r: &Record| streamed.push(r.clone()), window);
    match (&result, &again) {
        (Ok(a), Ok(b)) => assert!(
            a == b && records == streamed,
            "differs in {window}-byte windows"
        ),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "in {window}-byte windows"),
        _ => panic!("one way parses, the other fails, in {window}-byte windows"),
    }
});
