//! Any bytes: the parser returns a report or an error, never panics, and the records it
//! hands out agree with its counts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n_records = 0u64;
    let mut n_messages = 0u64;
    let result = rua_report::parse_bytes(data, &mut |r: &rua_report::Record| {
        n_records += 1;
        n_messages = n_messages.saturating_add(r.count);
        Ok(())
    });
    if let Ok(report) = result {
        assert_eq!(report.n_records, n_records);
        assert_eq!(report.n_messages, n_messages);
        assert!(!report.report_id.is_empty());
    }
});
