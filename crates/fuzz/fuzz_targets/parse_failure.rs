//! Any bytes as a failure report mail: the parser returns a report or an error, never
//! panics, and a report it returns has a feedback type.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = rua_report::failure::parse(data) {
        assert!(parsed.report.feedback_type.is_some());
    }
});
