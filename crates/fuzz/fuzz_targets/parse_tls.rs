//! Any bytes as an SMTP TLS report: the parser returns a report or an error, never panics,
//! and a report it returns has a report id and no normalized value without its raw text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = rua_report::smtp_tls::parse(data) {
        assert!(!report.report_id.is_empty());
        for policy in &report.policies {
            // A normalized value is never there without the raw text it came from.
            assert!(policy.policy_domain.is_none() || policy.policy_domain_raw.is_some());
            for d in &policy.failure_details {
                assert!(d.sending_mta_ip.is_none() || d.sending_mta_ip_raw.is_some());
                assert!(d.receiving_ip.is_none() || d.receiving_ip_raw.is_some());
                assert!(d.result_type.value.is_none() || d.result_type.raw.is_some());
            }
        }
    }
});
