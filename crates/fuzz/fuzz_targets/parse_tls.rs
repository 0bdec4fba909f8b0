//! Any bytes as an SMTP TLS report: the parser returns a report or an error, never panics,
//! and a report it returns has a report id and a policy per entry of `policies`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = rua_report::smtp_tls::parse(data) {
        assert!(!report.report_id.is_empty());
        for policy in &report.policies {
            for detail in &policy.failure_details {
                // A parsed address is the raw text's.
                if let (Some(ip), Some(raw)) = (detail.sending_mta_ip, &detail.sending_mta_ip_raw) {
                    assert!(raw.contains(&ip.to_string()) || raw.contains(':'));
                }
            }
        }
    }
});
