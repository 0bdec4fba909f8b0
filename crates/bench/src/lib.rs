//! A deterministic generator of realistic aggregate reports, and measurement helpers.
//!
//! Reports are written in the styles of the main reporters (see `Style`), with IPv4 and IPv6
//! sources from the documentation ranges, realistic pass/fail and alignment mixes, override
//! reasons, and several DKIM and SPF results per record. The same seed gives the same bytes.

use std::io::{self, Write};

use rua_report::aggregate::Record;

/// A small, fast, deterministic PRNG (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How a reporter writes its XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Google,
    Microsoft,
    Yahoo,
    MailRu,
    Gmx,
    Cisco,
    AmazonSes,
}

impl Style {
    pub const ALL: [Style; 7] = [
        Style::Google,
        Style::Microsoft,
        Style::Yahoo,
        Style::MailRu,
        Style::Gmx,
        Style::Cisco,
        Style::AmazonSes,
    ];

    pub fn org(self) -> (&'static str, &'static str) {
        match self {
            Style::Google => ("google.com", "noreply-dmarc-support@google.com"),
            Style::Microsoft => ("Enterprise Outlook", "dmarcreport@microsoft.com"),
            Style::Yahoo => ("Yahoo", "dmarchelp@yahooinc.com"),
            Style::MailRu => ("Mail.Ru", "dmarc_support@corp.mail.ru"),
            Style::Gmx => ("GMX", "noreply-dmarc@sicher.gmx.net"),
            Style::Cisco => ("esa1.hc1234-56.iphmx.com", "dmarc@esa1.hc1234-56.iphmx.com"),
            Style::AmazonSes => ("AMAZON-SES", "postmaster@amazonses.com"),
        }
    }

    /// The reporter's host for file names.
    pub fn host(self) -> &'static str {
        match self {
            Style::Google => "google.com",
            Style::Microsoft => "protection.outlook.com",
            Style::Yahoo => "yahoo.com",
            Style::MailRu => "mail.ru",
            Style::Gmx => "gmx.net",
            Style::Cisco => "esa1.hc1234-56.iphmx.com",
            Style::AmazonSes => "amazonses.com",
        }
    }
}

/// What one generated report is about.
#[derive(Debug, Clone)]
pub struct Spec {
    pub style: Style,
    pub report_id: String,
    pub domain: String,
    pub begin: i64,
    pub n_records: u64,
    pub seed: u64,
}

/// Counts of what was written, so benchmarks and tests can check the parser against them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub n_records: u64,
    pub n_messages: u64,
    pub n_bytes: u64,
}

struct Out<W> {
    w: W,
    nl: &'static str,
    n_bytes: u64,
}

impl<W: Write> Out<W> {
    /// One element on its own line at `indent`.
    fn line(&mut self, indent: usize, text: &str) -> io::Result<()> {
        const SPACES: &str = "                ";
        let pad = if self.nl.is_empty() {
            ""
        } else {
            &SPACES[..(indent * 2).min(SPACES.len())]
        };
        self.w.write_all(pad.as_bytes())?;
        self.w.write_all(text.as_bytes())?;
        self.w.write_all(self.nl.as_bytes())?;
        self.n_bytes += (pad.len() + text.len() + self.nl.len()) as u64;
        Ok(())
    }

    fn el(&mut self, indent: usize, name: &str, value: &str) -> io::Result<()> {
        self.line(indent, &format!("<{name}>{value}</{name}>"))
    }
}

const SENDER_DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.com",
    "news.example.com",
    "example.net",
    "bulk.example.org",
    "example.org",
];
const SELECTORS: &[&str] = &["s1", "s2", "google", "selector1", "k1", "mx"];

fn ip(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=3 => format!("192.0.2.{}", rng.below(254) + 1),
        4..=5 => format!("198.51.100.{}", rng.below(254) + 1),
        6..=7 => format!("203.0.113.{}", rng.below(254) + 1),
        _ => format!(
            "2001:db8:{:x}::{:x}",
            rng.below(0xffff),
            rng.below(0xffff) + 1
        ),
    }
}

/// Writes one report; returns its counts.
pub fn write_report<W: Write>(spec: &Spec, w: W) -> io::Result<Written> {
    let mut rng = Rng::new(spec.seed);
    let style = spec.style;
    let nl = match style {
        Style::MailRu => "",
        Style::Microsoft => "\r\n",
        Style::Yahoo => "\t\n",
        _ => "\n",
    };
    let mut o = Out { w, nl, n_bytes: 0 };
    let (org, email) = style.org();
    let end = spec.begin + 86_399;
    o.line(0, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    o.line(
        0,
        match style {
            Style::Gmx => r#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">"#,
            Style::Microsoft => {
                r#"<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#
            }
            _ => "<feedback>",
        },
    )?;
    match style {
        Style::Microsoft | Style::Gmx | Style::Cisco => o.el(1, "version", "1.0")?,
        Style::AmazonSes => o.el(1, "version", "0.1")?,
        _ => {}
    }
    o.line(1, "<report_metadata>")?;
    o.el(2, "org_name", org)?;
    o.el(2, "email", email)?;
    o.el(2, "report_id", &spec.report_id)?;
    o.line(2, "<date_range>")?;
    o.el(3, "begin", &spec.begin.to_string())?;
    o.el(3, "end", &end.to_string())?;
    o.line(2, "</date_range>")?;
    o.line(1, "</report_metadata>")?;
    o.line(1, "<policy_published>")?;
    o.el(2, "domain", &spec.domain)?;
    o.el(2, "adkim", "r")?;
    o.el(2, "aspf", "r")?;
    o.el(2, "p", if rng.chance(50) { "none" } else { "quarantine" })?;
    match style {
        Style::Cisco => o.line(2, "<sp></sp>")?,
        Style::Yahoo => {}
        _ => o.el(2, "sp", "none")?,
    }
    if style == Style::Gmx {
        o.el(2, "np", "reject")?;
        o.el(2, "testing", "n")?;
        o.el(2, "discovery_method", "psl")?;
    } else {
        o.el(2, "pct", "100")?;
    }
    if style == Style::Google {
        o.el(2, "np", "none")?;
    }
    o.line(1, "</policy_published>")?;
    let mut written = Written::default();
    for _ in 0..spec.n_records {
        let count = match rng.below(10) {
            0..=5 => 1,
            6..=8 => rng.below(20) + 2,
            _ => rng.below(5000) + 20,
        };
        written.n_records += 1;
        written.n_messages += count;
        // Outcomes: mostly aligned passes, some forwarding, some spoofing.
        let kind = rng.below(100);
        let (dkim_pass, spf_pass, dkim_aligned, spf_aligned) = match kind {
            0..=59 => (true, true, true, true),
            60..=69 => (true, false, true, false),
            70..=77 => (false, true, false, true),
            78..=84 => (true, true, false, false),
            _ => (false, false, false, false),
        };
        let header_from = &spec.domain;
        let dkim_domain = if dkim_aligned {
            header_from.clone()
        } else {
            SENDER_DOMAINS[rng.below(6) as usize].to_owned()
        };
        let spf_domain = if spf_aligned {
            format!("bounce.{header_from}")
        } else {
            SENDER_DOMAINS[rng.below(6) as usize].to_owned()
        };
        let verdict = |pass: bool, aligned: bool| if pass && aligned { "pass" } else { "fail" };
        o.line(1, "<record>")?;
        o.line(2, "<row>")?;
        o.el(3, "source_ip", &ip(&mut rng))?;
        o.el(3, "count", &count.to_string())?;
        o.line(3, "<policy_evaluated>")?;
        let dmarc_pass = (dkim_pass && dkim_aligned) || (spf_pass && spf_aligned);
        o.el(
            4,
            "disposition",
            if dmarc_pass || rng.chance(50) {
                "none"
            } else {
                "quarantine"
            },
        )?;
        o.el(4, "dkim", verdict(dkim_pass, dkim_aligned))?;
        o.el(4, "spf", verdict(spf_pass, spf_aligned))?;
        if !dmarc_pass && rng.chance(20) {
            o.line(4, "<reason>")?;
            o.el(
                5,
                "type",
                if rng.chance(50) {
                    "forwarded"
                } else {
                    "local_policy"
                },
            )?;
            o.el(5, "comment", "arc=pass")?;
            o.line(4, "</reason>")?;
        }
        o.line(3, "</policy_evaluated>")?;
        o.line(2, "</row>")?;
        o.line(2, "<identifiers>")?;
        if style == Style::Microsoft {
            o.el(3, "envelope_to", "example.org")?;
        }
        if matches!(
            style,
            Style::Microsoft | Style::Cisco | Style::AmazonSes | Style::Gmx | Style::MailRu
        ) {
            o.el(3, "envelope_from", &spf_domain)?;
        }
        o.el(3, "header_from", header_from)?;
        o.line(2, "</identifiers>")?;
        o.line(2, "<auth_results>")?;
        let n_dkim = if rng.chance(30) { 2 } else { 1 };
        for i in 0..n_dkim {
            o.line(3, "<dkim>")?;
            o.el(
                4,
                "domain",
                if i == 0 {
                    &dkim_domain
                } else {
                    "esp.example.net"
                },
            )?;
            o.el(4, "selector", SELECTORS[rng.below(6) as usize])?;
            o.el(
                4,
                "result",
                if i == 0 && !dkim_pass { "fail" } else { "pass" },
            )?;
            o.line(3, "</dkim>")?;
        }
        o.line(3, "<spf>")?;
        o.el(4, "domain", &spf_domain)?;
        if !matches!(style, Style::Google | Style::Yahoo) {
            o.el(4, "scope", "mfrom")?;
        }
        o.el(
            4,
            "result",
            if spf_pass {
                "pass"
            } else if rng.chance(50) {
                "softfail"
            } else {
                "fail"
            },
        )?;
        o.line(3, "</spf>")?;
        o.line(2, "</auth_results>")?;
        o.line(1, "</record>")?;
    }
    o.line(0, "</feedback>")?;
    o.w.flush()?;
    written.n_bytes = o.n_bytes;
    Ok(written)
}

/// How generated reports are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Xml,
    Gzip,
    Zip,
    /// One message per report (`.eml`), the report attached in base64 as gzip or zip.
    Eml,
    /// Every report message in one `reports.mbox`.
    Mbox,
    /// One message per report in a Maildir (`cur/`), as a mail server stores them.
    Maildir,
}

impl Container {
    pub fn parse(name: &str) -> Option<Container> {
        Some(match name {
            "xml" => Container::Xml,
            "gz" | "gzip" => Container::Gzip,
            "zip" => Container::Zip,
            "eml" => Container::Eml,
            "mbox" => Container::Mbox,
            "maildir" => Container::Maildir,
            _ => return None,
        })
    }
}

/// `xml` gzip-compressed.
pub fn gzip(xml: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml)?;
    enc.finish()
}

/// A zip archive holding `xml` as `name`.
pub fn zip_of(name: &str, xml: &[u8]) -> io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .map_err(io::Error::other)?;
    zip.write_all(xml)?;
    Ok(zip.finish().map_err(io::Error::other)?.into_inner())
}

/// A report mail as the big receivers send it: a short text part and the report attached in
/// base64, lines ending in `eol`.
pub fn report_mail(spec: &Spec, file_name: &str, attachment: &[u8], eol: &str) -> Vec<u8> {
    use base64::Engine as _;
    let (org, email) = spec.style.org();
    let content_type = if file_name.ends_with(".zip") {
        "application/zip"
    } else {
        "application/gzip"
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(attachment);
    let mut m = String::with_capacity(encoded.len() + 1024);
    let boundary = format!("=_rua_gen_{}", spec.seed);
    for line in [
        format!("From: {org} <{email}>"),
        "To: dmarc-reports@example.com".to_owned(),
        format!(
            "Subject: Report domain: {} Submitter: {org} Report-ID: {}",
            spec.domain, spec.report_id
        ),
        format!(
            "Message-ID: <{}.{}@{}>",
            spec.report_id,
            spec.seed,
            spec.style.host()
        ),
        "Date: Thu, 28 Nov 2024 08:00:00 +0000".to_owned(),
        "MIME-Version: 1.0".to_owned(),
        format!("Content-Type: multipart/mixed; boundary=\"{boundary}\""),
        String::new(),
        format!("--{boundary}"),
        "Content-Type: text/plain; charset=us-ascii".to_owned(),
        String::new(),
        format!("This is an aggregate report from {org}."),
        format!("--{boundary}"),
        format!("Content-Type: {content_type}; name=\"{file_name}\""),
        "Content-Transfer-Encoding: base64".to_owned(),
        format!("Content-Disposition: attachment; filename=\"{file_name}\""),
        String::new(),
    ] {
        m.push_str(&line);
        m.push_str(eol);
    }
    for chunk in encoded.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        m.push_str(eol);
    }
    m.push_str(&format!("--{boundary}--{eol}"));
    m.into_bytes()
}

/// Writes `n_reports` typical reports (1 to 50 records, every style) into `dir`, packed in
/// turn as gzip and zip (or all as `only`), with real-world file names. Returns the totals.
pub fn write_corpus(
    dir: &std::path::Path,
    n_reports: u64,
    seed: u64,
    only: Option<Container>,
) -> io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let mut mbox = match only {
        Some(Container::Mbox) => Some(io::BufWriter::new(std::fs::File::create(
            dir.join("reports.mbox"),
        )?)),
        _ => None,
    };
    if only == Some(Container::Maildir) {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
    }
    let mut rng = Rng::new(seed);
    let mut total = Written::default();
    let mut xml = Vec::new();
    for i in 0..n_reports {
        let style = Style::ALL[rng.below(Style::ALL.len() as u64) as usize];
        let spec = Spec {
            style,
            report_id: format!("{seed}-{i}"),
            domain: format!("example{}.com", rng.below(20)),
            begin: 1_732_752_000 - 86_400 * rng.below(60) as i64,
            n_records: rng.below(50) + 1,
            seed: rng.next_u64(),
        };
        xml.clear();
        let w = write_report(&spec, &mut xml)?;
        total.n_records += w.n_records;
        total.n_messages += w.n_messages;
        total.n_bytes += w.n_bytes;
        let stem = format!(
            "{}!{}!{}!{}!{i}",
            style.host(),
            spec.domain,
            spec.begin,
            spec.begin + 86_399
        );
        // Files and mails alternate between gzip and zip, as the receivers' mix does.
        let attachment = if i % 2 == 0 {
            (format!("{stem}.xml.gz"), gzip(&xml)?)
        } else {
            (format!("{stem}.zip"), zip_of(&format!("{stem}.xml"), &xml)?)
        };
        match only {
            Some(Container::Xml) => std::fs::write(dir.join(format!("{stem}.xml")), &xml)?,
            Some(Container::Gzip) => {
                std::fs::write(dir.join(format!("{stem}.xml.gz")), gzip(&xml)?)?
            }
            Some(Container::Zip) => std::fs::write(
                dir.join(format!("{stem}.zip")),
                zip_of(&format!("{stem}.xml"), &xml)?,
            )?,
            None => std::fs::write(dir.join(&attachment.0), &attachment.1)?,
            Some(Container::Eml) => std::fs::write(
                dir.join(format!("{stem}.eml")),
                report_mail(&spec, &attachment.0, &attachment.1, "\r\n"),
            )?,
            Some(Container::Maildir) => std::fs::write(
                dir.join(format!("cur/{}.{i}.rua-gen:2,", 1_732_752_000 + i)),
                report_mail(&spec, &attachment.0, &attachment.1, "\n"),
            )?,
            Some(Container::Mbox) => {
                if let Some(out) = mbox.as_mut() {
                    out.write_all(b"From MAILER-DAEMON Thu Nov 28 08:00:00 2024\n")?;
                    out.write_all(&report_mail(&spec, &attachment.0, &attachment.1, "\n"))?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    if let Some(mut out) = mbox {
        out.flush()?;
    }
    Ok(total)
}

/// The floor: quick-xml's bare event loop (one reused buffer, nothing else) over the same
/// bytes rua parses. Returns the number of events.
pub fn floor_events<R: io::BufRead>(input: R) -> io::Result<u64> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::with_capacity(4096);
    let mut n_events = 0u64;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => return Ok(n_events),
            Ok(_) => n_events += 1,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// The floor for bytes in memory: quick-xml's event loop borrowing from them.
pub fn floor_events_in_memory(input: &[u8]) -> io::Result<u64> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut n_events = 0u64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(n_events),
            Ok(_) => n_events += 1,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// The floor for a directory of report files (`.xml`, `.xml.gz`, `.zip` as `rua-gen corpus`
/// writes them): each read, inflated and tokenized in memory by quick-xml, one after the
/// other on this thread. Returns the files and the XML bytes tokenized.
pub fn floor_files(dir: &std::path::Path) -> io::Result<(u64, u64)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    paths.retain(|p| {
        p.is_file()
            && !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    });
    paths.sort();
    let (mut n_files, mut n_xml) = (0u64, 0u64);
    let mut xml = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path)?;
        xml.clear();
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => {
                io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut xml)?;
            }
            Some("zip") => {
                let mut archive =
                    zip::ZipArchive::new(io::Cursor::new(&bytes[..])).map_err(io::Error::other)?;
                for i in 0..archive.len() {
                    let mut file = archive.by_index(i).map_err(io::Error::other)?;
                    io::Read::read_to_end(&mut file, &mut xml)?;
                }
            }
            _ => xml.extend_from_slice(&bytes),
        }
        floor_events_in_memory(&xml)?;
        n_files += 1;
        n_xml += xml.len() as u64;
    }
    Ok((n_files, n_xml))
}

/// The CPU time this process has used so far, every thread's, user and system (Linux:
/// `/proc/self/stat`, in the kernel's clock ticks of 1/100 s).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// rua's parser over bytes in memory (`parse_bytes`). Returns the number of records.
pub fn rua_records_in_memory(input: &[u8]) -> io::Result<u64> {
    let mut n_records = 0u64;
    let Ok(parsed) = rua_report::aggregate::parse_bytes(input, &mut |_: &Record| n_records += 1);
    parsed.map_err(io::Error::other)?;
    Ok(n_records)
}

/// rua's parser over `input`, records counted and dropped. Returns the number of records.
pub fn rua_records<R: io::BufRead>(input: R) -> io::Result<u64> {
    let mut n_records = 0u64;
    let Ok(parsed) = rua_report::aggregate::parse(input, &mut |_: &Record| n_records += 1);
    parsed.map_err(io::Error::other)?;
    Ok(n_records)
}

/// Peak resident set size of this process (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_reports_parse_to_the_counts_written_in_every_style() {
        for (i, style) in Style::ALL.into_iter().enumerate() {
            let spec = Spec {
                style,
                report_id: format!("gen-{i}"),
                domain: "example.com".into(),
                begin: 1_732_752_000,
                n_records: 200,
                seed: i as u64,
            };
            let mut xml = Vec::new();
            let written = write_report(&spec, &mut xml).expect("writes");
            assert_eq!(written.n_bytes, xml.len() as u64);
            let (report, records) = rua_report::aggregate::parse_to_vec(&xml).expect("parses");
            assert_eq!(
                (report.n_records, report.n_messages),
                (written.n_records, written.n_messages),
                "{style:?}"
            );
            assert_eq!(records.len(), 200);
            assert!(
                report.warnings.is_empty(),
                "{style:?}: {:?}",
                report.warnings
            );
            let mut again = Vec::new();
            write_report(&spec, &mut again).expect("writes");
            assert_eq!(xml, again, "not deterministic");
        }
    }

    #[test]
    fn the_files_floor_reads_every_container_and_counts_the_xml_once() {
        let dir = std::env::temp_dir().join(format!("rua-bench-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let spec = Spec {
            style: Style::Google,
            report_id: "floor".into(),
            domain: "example.com".into(),
            begin: 1_732_752_000,
            n_records: 20,
            seed: 3,
        };
        let mut xml = Vec::new();
        write_report(&spec, &mut xml).expect("writes");
        std::fs::write(dir.join("a.xml"), &xml).expect("xml");
        std::fs::write(dir.join("b.xml.gz"), gzip(&xml).expect("gz")).expect("gz");
        std::fs::write(dir.join("c.zip"), zip_of("c.xml", &xml).expect("zip")).expect("zip");
        std::fs::write(dir.join(".done"), b"").expect("marker");
        assert_eq!(floor_files(&dir).expect("floor"), (3, 3 * xml.len() as u64));
        std::fs::write(dir.join("d.xml.gz"), b"not gzip").expect("bad");
        assert!(
            floor_files(&dir).is_err(),
            "a payload it cannot read is an error"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cpu_seconds_counts_this_process_working() {
        let before = cpu_seconds();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let spent = cpu_seconds() - before;
        assert!((0.05..5.0).contains(&spent), "{spent}");
    }
}
