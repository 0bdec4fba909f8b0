//! DMARC identifier alignment, computed by rua rather than taken from the receiver.
//!
//! A DKIM result is aligned when it passed for a domain that matches the RFC5322.From
//! domain: exactly under strict alignment (`adkim=s`), or with the same organizational
//! domain under relaxed alignment (the registrable domain by the Public Suffix List, ICANN
//! and private sections, compiled in by the `psl` crate: no network). SPF likewise, with the
//! SPF domain (or the envelope sender when the SPF result names none) under `aspf`.
//!
//! [`evaluate`] computes both modes for a record, so the choice by the report's policy can be
//! made afterwards (in the SQL views) whatever order the report's elements came in.

use std::borrow::Cow;

use rua_report::aggregate::{AuthResult, Record, SpfScope};

/// Lower case, without surrounding space or trailing dots; borrowed when `domain` is
/// already so (almost always: this runs several times per record).
pub fn normalize(domain: &str) -> Cow<'_, str> {
    let trimmed = domain.trim().trim_end_matches('.');
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// The organizational domain of a normalized domain: its registrable domain by the Public
/// Suffix List, or the domain itself when it has none (a bare suffix, an unknown TLD).
pub fn organizational_domain(domain: &str) -> &str {
    psl::domain_str(domain).unwrap_or(domain)
}

/// Whether `auth` aligns with `header_from` (both normalized).
pub fn is_aligned(auth: &str, header_from: &str, is_strict: bool) -> bool {
    if auth.is_empty() || header_from.is_empty() {
        return false;
    }
    auth == header_from
        || (!is_strict && organizational_domain(auth) == organizational_domain(header_from))
}

/// Alignment facts of one record, in both modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Alignment {
    /// Some DKIM result passed (aligned or not).
    pub is_dkim_pass: bool,
    /// Some SPF result passed (aligned or not).
    pub is_spf_pass: bool,
    pub is_dkim_aligned_relaxed: bool,
    pub is_dkim_aligned_strict: bool,
    pub is_spf_aligned_relaxed: bool,
    pub is_spf_aligned_strict: bool,
}

/// Computes a record's alignment from its own auth results.
pub fn evaluate(record: &Record) -> Alignment {
    let mut a = Alignment::default();
    let header_from = record
        .header_from
        .as_deref()
        .map_or(Cow::Borrowed(""), normalize);
    for d in &record.dkim {
        if d.result.value != Some(AuthResult::Pass) {
            continue;
        }
        a.is_dkim_pass = true;
        let domain = d.domain.as_deref().map_or(Cow::Borrowed(""), normalize);
        a.is_dkim_aligned_relaxed |= is_aligned(&domain, &header_from, false);
        a.is_dkim_aligned_strict |= is_aligned(&domain, &header_from, true);
    }
    // DMARC uses the MAIL FROM identity; HELO results count only when nothing else is there
    // (a null reverse-path).
    let has_mfrom = record
        .spf
        .iter()
        .any(|s| s.scope.value != Some(SpfScope::Helo));
    for s in &record.spf {
        if s.result.value != Some(AuthResult::Pass)
            || (has_mfrom && s.scope.value == Some(SpfScope::Helo))
        {
            continue;
        }
        a.is_spf_pass = true;
        let domain = s
            .domain
            .as_deref()
            .or(record.envelope_from.as_deref())
            .map_or(Cow::Borrowed(""), normalize);
        a.is_spf_aligned_relaxed |= is_aligned(&domain, &header_from, false);
        a.is_spf_aligned_strict |= is_aligned(&domain, &header_from, true);
    }
    a
}

/// The passing DKIM signing domain that names who sent a record: the first that does not
/// align (relaxed) with the From domain (an ESP's own signature beside the customer's), else
/// the first that passed. None when no signature passed.
pub fn dkim_signer(record: &Record) -> Option<Cow<'_, str>> {
    let header_from = record
        .header_from
        .as_deref()
        .map_or(Cow::Borrowed(""), normalize);
    let passed = record
        .dkim
        .iter()
        .filter(|d| d.result.value == Some(AuthResult::Pass))
        .filter_map(|d| d.domain.as_deref().map(normalize))
        .filter(|d| !d.is_empty());
    let mut first = None;
    for domain in passed {
        if !is_aligned(&domain, &header_from, false) {
            return Some(domain);
        }
        first = first.or(Some(domain));
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use rua_report::aggregate::{Coded, DkimResult, SpfResult};

    #[test]
    fn domains_align_by_mode_and_public_suffix() {
        // (auth domain, header_from, strict?, aligned?)
        let cases = [
            ("example.com", "example.com", true, true),
            ("example.com", "example.com", false, true),
            ("mail.example.com", "example.com", false, true),
            ("mail.example.com", "example.com", true, false),
            ("example.com", "news.example.com", false, true),
            ("a.example.com", "b.example.com", false, true),
            ("a.example.com", "b.example.com", true, false),
            ("example.net", "example.com", false, false),
            // ICANN multi-label suffixes.
            ("shop.example.co.uk", "example.co.uk", false, true),
            ("example.co.uk", "other.co.uk", false, false),
            ("co.uk", "example.co.uk", false, false),
            // Private suffixes: two github.io sites are different organizations.
            ("alice.github.io", "bob.github.io", false, false),
            ("www.alice.github.io", "alice.github.io", false, true),
            // Empty identifiers never align.
            ("", "example.com", false, false),
        ];
        for (auth, from, strict, want) in cases {
            assert_eq!(
                is_aligned(auth, from, strict),
                want,
                "{auth} vs {from} strict={strict}"
            );
        }
    }

    #[test]
    fn trailing_dots_and_case_are_normalized() {
        assert_eq!(normalize(" Mail.Example.COM. "), "mail.example.com");
        assert!(is_aligned(
            &normalize("EXAMPLE.com."),
            &normalize("example.COM"),
            true
        ));
    }

    fn pass<T: Copy>(value: T, raw: &str) -> Coded<T> {
        Coded {
            raw: Some(raw.to_owned().into()),
            value: Some(value),
        }
    }

    fn record(
        from: &str,
        dkim: &[(&str, AuthResult)],
        spf: &[(&str, Option<SpfScope>, AuthResult)],
    ) -> Record {
        Record {
            header_from: Some(from.to_owned()),
            dkim: dkim
                .iter()
                .map(|&(d, r)| DkimResult {
                    domain: Some(d.to_owned()),
                    result: pass(r, r.as_str()),
                    ..Default::default()
                })
                .collect(),
            spf: spf
                .iter()
                .map(|&(d, scope, r)| SpfResult {
                    domain: Some(d.to_owned()),
                    scope: Coded {
                        raw: scope.map(|s| s.as_str().into()),
                        value: scope,
                    },
                    result: pass(r, r.as_str()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn records_are_evaluated_in_both_modes() {
        use AuthResult::{Fail, Pass};
        // A relaxed-only DKIM pass, an aligned SPF pass.
        let a = evaluate(&record(
            "example.com",
            &[("mail.example.com", Pass)],
            &[("example.com", None, Pass)],
        ));
        assert!(a.is_dkim_pass && a.is_dkim_aligned_relaxed && !a.is_dkim_aligned_strict);
        assert!(a.is_spf_aligned_relaxed && a.is_spf_aligned_strict);
        // A pass for another domain is a pass but not aligned; a fail for ours is neither.
        let a = evaluate(&record(
            "example.com",
            &[("esp.example.net", Pass), ("example.com", Fail)],
            &[],
        ));
        assert!(a.is_dkim_pass && !a.is_dkim_aligned_relaxed && !a.is_spf_pass);
        // HELO counts only without a MAIL FROM result.
        let a = evaluate(&record(
            "example.com",
            &[],
            &[
                ("example.com", Some(SpfScope::Helo), Pass),
                ("bounce.example.net", Some(SpfScope::Mfrom), Pass),
            ],
        ));
        assert!(a.is_spf_pass && !a.is_spf_aligned_relaxed);
        let a = evaluate(&record(
            "example.com",
            &[],
            &[("mx.example.com", Some(SpfScope::Helo), Pass)],
        ));
        assert!(a.is_spf_aligned_relaxed && !a.is_spf_aligned_strict);
        // Trailing dots and case in the report itself.
        let a = evaluate(&record("Example.COM.", &[("example.com.", Pass)], &[]));
        assert!(a.is_dkim_aligned_strict);
    }

    #[test]
    fn the_dkim_signer_is_the_third_party_signature() {
        use AuthResult::{Fail, Pass};
        let signer = |from, dkim: &[(&str, AuthResult)]| {
            dkim_signer(&record(from, dkim, &[])).map(Cow::into_owned)
        };
        // The ESP's signature beside the customer's (aligned) one names the ESP.
        assert_eq!(
            signer("example.com", &[("example.com", Pass), ("MCSV.net.", Pass)]).as_deref(),
            Some("mcsv.net")
        );
        // Only aligned signatures: the first.
        assert_eq!(
            signer("example.com", &[("mail.example.com", Pass)]).as_deref(),
            Some("mail.example.com")
        );
        // A failed signature names nobody.
        assert_eq!(signer("example.com", &[("amazonses.com", Fail)]), None);
        assert_eq!(signer("example.com", &[]), None);
    }
}
