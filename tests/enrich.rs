//! `rua enrich` end to end: a real DNS server on loopback (dnsmasq) and a dead one, tiny MMDB
//! files in each supported schema written by the tests, the sender rules on the sample
//! reports, a killed run, and the shared corpus.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::dnsmasq::{Dnsmasq, Silent};
use common::{TempDir, number, rua_command, sql};

/// An aggregate report for example.com with one record per (address, messages, DKIM domain
/// that passed).
fn report(id: &str, records: &[(&str, u64, Option<&str>)]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>reporter.example</org_name>\
         <email>dmarc@reporter.example</email><report_id>{id}</report_id><date_range>\
         <begin>1732752000</begin><end>1732838399</end></date_range></report_metadata>\
         <policy_published><domain>example.com</domain><p>none</p></policy_published>\n"
    );
    for (ip, count, dkim) in records {
        let dkim = dkim.map_or(String::new(), |d| {
            format!("<dkim><domain>{d}</domain><result>pass</result></dkim>")
        });
        xml.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>\
             </row><identifiers><header_from>example.com</header_from></identifiers>\
             <auth_results>{dkim}<spf><domain>example.com</domain><result>fail</result></spf>\
             </auth_results></record>\n"
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

/// rua with this configuration, DNS allowed.
fn rua_with(config: &Path, db: &Path, args: &[&str]) -> Command {
    let mut command = rua_command(db, args);
    command.env("RUA_CONFIG", config).env_remove("RUA_OFFLINE");
    command
}

fn run(config: &Path, db: &Path, args: &[&str], code: i32) -> Output {
    let out = rua_with(config, db, args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "rua {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write_config(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.0.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// ip → (status, ptr, ptr_confirmed, sender) from ip_info.
fn ip_info(db: &Path) -> BTreeMap<String, [String; 4]> {
    sql(
        db,
        "SELECT ip, status, coalesce(ptr, ''), coalesce(ptr_confirmed::VARCHAR, ''), coalesce(sender, '') FROM ip_info",
    )
    .into_iter()
    .map(|r| (r[0].clone(), [r[1].clone(), r[2].clone(), r[3].clone(), r[4].clone()]))
    .collect()
}

const RECORDS: &str = "\
host-record=mail.example.test,192.0.2.1
ptr-record=2.2.0.192.in-addr.arpa,mail.google.com
ptr-record=3.2.0.192.in-addr.arpa,a.example.test
ptr-record=3.2.0.192.in-addr.arpa,b.example.test
host-record=b.example.test,192.0.2.3
txt-record=4.2.0.192.in-addr.arpa,no-ptr-here
host-record=mail-ej1-f41.google.com,192.0.2.5
host-record=mx6.example.test,2001:db8::1
";

const ADDRESSES: [&str; 7] = [
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "192.0.2.4",
    "192.0.2.5",
    "192.0.2.9",
    "2001:db8::1",
];

#[test]
fn dns_answers_are_kept_and_failures_are_asked_again() {
    let Some(dns) = Dnsmasq::start("answers", RECORDS) else {
        return;
    };
    let dir = TempDir::new("enrich-dns");
    let db = dir.db();
    let input = dir.0.join("report.xml");
    let records: Vec<_> = ADDRESSES.iter().map(|ip| (*ip, 10, None)).collect();
    std::fs::write(&input, report("dns-1", &records)).unwrap();

    // A dead name server: the ingest succeeds, says so, and keeps no answer.
    let dead = Silent::bind();
    let dead_config = write_config(
        &dir,
        "dead.toml",
        &format!(
            "[enrich]\nnameservers = [\"{}\"]\ntimeout_secs = 0.3\n",
            dead.address()
        ),
    );
    let out = run(&dead_config, &db, &["ingest", input.to_str().unwrap()], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("7 of 7 DNS lookups got no answer"),
        "{stderr}"
    );
    let info = ip_info(&db);
    assert_eq!(info.len(), 7);
    assert!(info.values().all(|r| r[0] == "timeout"), "{info:?}");

    // The real server: every address asked again and answered.
    let config = write_config(
        &dir,
        "dns.toml",
        &format!(
            "[enrich]\nnameservers = [\"{}\"]\ntimeout_secs = 2\n",
            dns.address()
        ),
    );
    run(&config, &db, &["enrich"], 0);
    let info = ip_info(&db);
    let row = |ip: &str| info[ip].iter().map(String::as_str).collect::<Vec<_>>();
    assert_eq!(
        row("192.0.2.1"),
        ["ok", "mail.example.test", "true", "example.test"]
    );
    // A PTR that does not resolve back is kept, never trusted to name the sender.
    assert_eq!(row("192.0.2.2"), ["ok", "mail.google.com", "false", ""]);
    // Two names: the one that confirms is the ptr; both are kept.
    assert_eq!(
        row("192.0.2.3"),
        ["ok", "b.example.test", "true", "example.test"]
    );
    assert_eq!(
        sql(
            &db,
            "SELECT array_to_string(list_sort(ptr_names), ' ') FROM ip_info WHERE ip = '192.0.2.3'"
        )[0][0],
        "a.example.test b.example.test"
    );
    assert_eq!(row("192.0.2.4"), ["no_records", "", "", ""]);
    assert_eq!(
        row("192.0.2.5"),
        ["ok", "mail-ej1-f41.google.com", "true", "Google"]
    );
    assert_eq!(row("192.0.2.9"), ["nxdomain", "", "", ""]);
    assert_eq!(
        row("2001:db8::1"),
        ["ok", "mx6.example.test", "true", "example.test"]
    );
    assert_eq!(
        sql(
            &db,
            "SELECT sender_rule, sender_confidence FROM ip_info WHERE ip = '192.0.2.5'"
        )[0],
        ["ptr", "medium"]
    );

    // Answers are kept: the next run asks nothing, even with the server gone.
    let before = sql(&db, "SELECT ip, looked_up_at FROM ip_info ORDER BY ip");
    drop(dns);
    let out = run(&config, &db, &["-v", "enrich"], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("enriched 0 addresses (0 looked up"),
        "{stderr}"
    );
    assert_eq!(
        sql(&db, "SELECT ip, looked_up_at FROM ip_info ORDER BY ip"),
        before
    );

    // The views carry it: report_records and the summary by sender, which adds up.
    assert_eq!(
        sql(
            &db,
            "SELECT sender, ptr FROM report_records WHERE source_ip = '192.0.2.5'"
        )[0],
        ["Google", "mail-ej1-f41.google.com"]
    );
    let out = run(
        &config,
        &db,
        &["summary", "--by", "sender", "--format", "csv"],
        0,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let total: i64 = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 70, "{text}");
    assert!(text.contains("Google,email_provider,10,"), "{text}");
    // The default summary shows the sender and PTR beside each failing source.
    let out = run(&config, &db, &["summary", "--format", "csv"], 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("192.0.2.5,Google,mail-ej1-f41.google.com,10,"),
        "{text}"
    );
}

#[test]
fn offline_does_no_dns_and_online_fills_in_later() {
    let Some(dns) = Dnsmasq::start("offline", RECORDS) else {
        return;
    };
    let dir = TempDir::new("enrich-offline");
    let db = dir.db();
    let input = dir.0.join("report.xml");
    std::fs::write(&input, report("offline-1", &[("192.0.2.1", 3, None)])).unwrap();
    let config = write_config(
        &dir,
        "dns.toml",
        &format!("[enrich]\nnameservers = [\"{}\"]\n", dns.address()),
    );
    // --offline and --no-enrich on ingest; then offline enrich; then online.
    run(
        &config,
        &db,
        &["ingest", "--no-enrich", input.to_str().unwrap()],
        0,
    );
    assert_eq!(number(&db, "SELECT count(*) FROM ip_info"), 0);
    run(&config, &db, &["enrich", "--offline"], 0);
    assert_eq!(ip_info(&db)["192.0.2.1"][0], "not_looked_up");
    run(&config, &db, &["enrich"], 0);
    assert_eq!(ip_info(&db)["192.0.2.1"][0..2], ["ok", "mail.example.test"]);
}

fn write_mmdb(schema: &str, path: &Path, epoch: Option<u64>) {
    let mut command = Command::new("python3");
    command
        .arg(rua_testkit::repo_root().join("tests/support/write_mmdb.py"))
        .arg(schema)
        .arg(path);
    if let Some(epoch) = epoch {
        command.arg(epoch.to_string());
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn has_mmdb_writer() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import mmdb_writer, netaddr"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !is_ci,
            "mmdb-writer is not installed (make test-deps installs it)"
        );
        eprintln!("skipping: python3 mmdb-writer is not installed (run `make test-deps`)");
    }
    ok
}

#[test]
fn ip_databases_in_every_schema_and_a_broken_one() {
    if !has_mmdb_writer() {
        return;
    }
    let dir = TempDir::new("enrich-mmdb");
    let db = dir.db();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ipinfo = dir.0.join("ipinfo_lite.mmdb");
    let asn = dir.0.join("GeoLite2-ASN.mmdb");
    let country = dir.0.join("GeoLite2-Country.mmdb");
    let dbip = dir.0.join("dbip-city-lite.mmdb");
    write_mmdb("ipinfo-lite", &ipinfo, Some(now - 45 * 86_400));
    write_mmdb("geolite2-asn", &asn, None);
    write_mmdb("geolite2-country", &country, None);
    write_mmdb("dbip-city-lite", &dbip, None);
    let corrupt = dir.0.join("corrupt.mmdb");
    let mut bytes = std::fs::read(&asn).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, bytes).unwrap();
    let missing = dir.0.join("missing.mmdb");
    let list = |paths: &[&Path]| {
        paths
            .iter()
            .map(|p| format!("\"{}\"", p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = write_config(
        &dir,
        "all.toml",
        &format!(
            "[enrich]\noffline = true\nip_databases = [{}]\n",
            list(&[&corrupt, &ipinfo, &missing, &asn, &country, &dbip])
        ),
    );
    let input = dir.0.join("report.xml");
    std::fs::write(
        &input,
        report(
            "mmdb-1",
            &[
                ("192.0.2.1", 5, None),
                ("2001:db8::7", 4, None),
                ("198.51.100.7", 3, None),
                ("203.0.113.9", 2, None),
                ("100.64.0.1", 1, None),
            ],
        ),
    )
    .unwrap();
    let out = run(&config, &db, &["ingest", input.to_str().unwrap()], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt.mmdb") && stderr.contains("missing.mmdb"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ipinfo_lite.mmdb (ipinfo lite.mmdb) was built 45 days ago"),
        "{stderr}"
    );
    let rows = sql(
        &db,
        "SELECT ip, coalesce(asn::VARCHAR, ''), coalesce(as_name, ''), coalesce(as_domain, ''), coalesce(country, ''), replace(coalesce(ip_databases, ''), ',', ';'), coalesce(sender, '') FROM ip_info ORDER BY ip",
    );
    let expected = [
        ["100.64.0.1", "", "", "", "", "", ""],
        [
            "192.0.2.1",
            "64496",
            "Example Networks",
            "example.net",
            "NL",
            "ipinfo_lite.mmdb",
            "Example Networks",
        ],
        [
            "198.51.100.7",
            "64500",
            "Documentation Transit",
            "",
            "FR",
            "GeoLite2-ASN.mmdb;GeoLite2-Country.mmdb",
            "Documentation Transit",
        ],
        [
            "2001:db8::7",
            "64497",
            "Example Six",
            "example.org",
            "DE",
            "ipinfo_lite.mmdb",
            "Example Six",
        ],
        ["203.0.113.9", "", "", "", "JP", "dbip-city-lite.mmdb", ""],
    ];
    assert_eq!(
        rows,
        expected.map(|r| r.map(str::to_owned).to_vec()).to_vec()
    );
    let by_asn = sql(&db, "SELECT sum(messages) FROM summary_by_asn");
    assert_eq!(by_asn[0][0], "15");
    let by_country = sql(
        &db,
        "SELECT country, messages FROM summary_by_country ORDER BY country",
    );
    assert_eq!(
        by_country,
        [
            ["(unknown)", "1"],
            ["DE", "4"],
            ["FR", "3"],
            ["JP", "2"],
            ["NL", "5"]
        ]
    );

    // Other files: every address is worked out again (no DNS needed for it).
    let config = write_config(
        &dir,
        "fewer.toml",
        &format!(
            "[enrich]\noffline = true\nip_databases = [{}]\n",
            list(&[&ipinfo])
        ),
    );
    run(&config, &db, &["enrich"], 0);
    assert_eq!(
        number(&db, "SELECT count(*) FROM ip_info WHERE asn IS NOT NULL"),
        2
    );
}

#[test]
fn senders_by_dkim_and_by_the_users_rules() {
    let dir = TempDir::new("enrich-senders");
    let db = dir.db();
    let config = write_config(
        &dir,
        "rules.toml",
        "[enrich]\noffline = true\n\
         [[enrich.sender]]\nname = \"Our relay\"\nnetworks = [\"198.51.100.43\"]\n\
         [[enrich.sender]]\nname = \"Our newsletter\"\ntype = \"marketing\"\ndomains = [\"news.example.com\"]\n",
    );
    let samples = rua_testkit::sample_reports().join("aggregate/ok/esp-senders.xml");
    run(&config, &db, &["ingest", samples.to_str().unwrap()], 0);
    let input = dir.0.join("news.xml");
    std::fs::write(
        &input,
        report("news-1", &[("198.51.100.60", 7, Some("news.example.com"))]),
    )
    .unwrap();
    run(&config, &db, &["ingest", input.to_str().unwrap()], 0);
    let senders = sql(
        &db,
        "SELECT source_ip, sender, sender_type, sender_rule FROM report_records ORDER BY source_ip",
    );
    let expected = [
        ["198.51.100.40", "Mailchimp", "marketing", "dkim"],
        ["198.51.100.41", "Amazon SES", "transactional", "dkim"],
        ["198.51.100.42", "Google Groups", "forwarder", "dkim"],
        // The user's network rule beats SendGrid's signature.
        ["198.51.100.43", "Our relay", "own", "config"],
        ["198.51.100.60", "Our newsletter", "marketing", "config"],
        ["203.0.113.50", "", "", ""],
    ];
    assert_eq!(
        senders,
        expected.map(|r| r.map(str::to_owned).to_vec()).to_vec()
    );
    let total = number(&db, "SELECT sum(message_count) FROM report_records");
    assert_eq!(
        number(&db, "SELECT sum(messages) FROM summary_by_sender"),
        total
    );

    // Classes, rule by rule.
    let classes = sql(
        &db,
        "SELECT source_ip, class, class_rule, coalesce(class_note, '') FROM record_classes ORDER BY source_ip",
    );
    let own_dkim = "sign with a DKIM key of your own domain (custom DKIM signing domain)";
    let expected = [
        ["198.51.100.40", "compliant", "dmarc_pass", ""],
        [
            "198.51.100.41",
            "misconfigured",
            "known_sender_unaligned",
            own_dkim,
        ],
        ["198.51.100.42", "forwarded", "list_signature", ""],
        ["198.51.100.43", "misconfigured", "own_source", own_dkim],
        // Signed by the user's own (aligned) newsletter domain: it passes.
        ["198.51.100.60", "compliant", "dmarc_pass", ""],
        ["203.0.113.50", "unauthorized", "no_other_rule", ""],
    ];
    assert_eq!(
        classes,
        expected.map(|r| r.map(str::to_owned).to_vec()).to_vec()
    );
    assert_eq!(
        number(&db, "SELECT sum(messages) FROM summary_by_class"),
        total
    );

    // The owner's verdicts, by sender name: Amazon SES never authorized for example.com
    // (authorized for example.org, which these records are not), Google Groups authorized
    // for every domain (its failing mail is to be fixed, not blocked).
    let verdicts = write_config(
        &dir,
        "verdicts.toml",
        "[enrich]\noffline = true\n\
         [[enrich.sender]]\nname = \"Our relay\"\nnetworks = [\"198.51.100.43\"]\n\
         [[enrich.source]]\nsender = \"Amazon SES\"\nauthorized = false\ndomain = \"example.com\"\n\
         [[enrich.source]]\nsender = \"Google Groups\"\nauthorized = true\n\
         [[enrich.source]]\nsender = \"Amazon SES\"\nauthorized = true\ndomain = \"example.org\"\n",
    );
    run(&verdicts, &db, &["enrich"], 0);
    let judged = sql(
        &db,
        "SELECT source_ip, class, class_rule FROM record_classes WHERE source_ip IN ('198.51.100.41', '198.51.100.42') ORDER BY source_ip",
    );
    let expected = [
        ["198.51.100.41", "unauthorized", "config_never_authorized"],
        ["198.51.100.42", "misconfigured", "config_authorized"],
    ];
    assert_eq!(
        judged,
        expected.map(|r| r.map(str::to_owned).to_vec()).to_vec()
    );
}

#[test]
fn a_reporters_forwarding_verdict_makes_a_record_forwarded() {
    let dir = TempDir::new("enrich-forwarded");
    let db = dir.db();
    let config = write_config(&dir, "offline.toml", "[enrich]\noffline = true\n");
    // (address, override reason, comment): ARC trusted by the receiver, a mailing list, and
    // an ARC chain that failed (not forwarding).
    let cases = [
        (
            "198.51.100.1",
            "local_policy",
            "arc=pass as.1.google.com=pass",
        ),
        ("198.51.100.2", "mailing_list", ""),
        ("198.51.100.3", "local_policy", "arc=fail"),
    ];
    let records: String = cases
        .iter()
        .map(|(ip, reason, comment)| {
            format!(
                "<record><row><source_ip>{ip}</source_ip><count>2</count><policy_evaluated>\
                 <disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>\
                 <reason><type>{reason}</type><comment>{comment}</comment></reason>\
                 </policy_evaluated></row><identifiers><header_from>example.com</header_from>\
                 </identifiers><auth_results><spf><domain>list.example.net</domain>\
                 <result>pass</result></spf></auth_results></record>\n"
            )
        })
        .collect();
    let xml = report("fw-1", &[]).replace("</feedback>", &format!("{records}</feedback>"));
    let input = dir.0.join("fw.xml");
    std::fs::write(&input, xml).unwrap();
    run(&config, &db, &["ingest", input.to_str().unwrap()], 0);
    let classes = sql(
        &db,
        "SELECT source_ip, class, class_rule FROM record_classes ORDER BY source_ip",
    );
    let expected = [
        ["198.51.100.1", "forwarded", "reporter_says_forwarded"],
        ["198.51.100.2", "forwarded", "reporter_says_forwarded"],
        ["198.51.100.3", "unauthorized", "no_other_rule"],
    ];
    assert_eq!(
        classes,
        expected.map(|r| r.map(str::to_owned).to_vec()).to_vec()
    );
}

#[test]
fn a_killed_enrich_loses_nothing_and_asks_nothing_twice() {
    const N: usize = 1500;
    let Some(dns) = Dnsmasq::start("kill", "synth-domain=bench.test,198.18.0.0/20,host-") else {
        return;
    };
    let dir = TempDir::new("enrich-kill");
    let db = dir.db();
    let addresses: Vec<String> = (0..N)
        .map(|i| format!("198.18.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let records: Vec<_> = addresses.iter().map(|ip| (ip.as_str(), 1, None)).collect();
    let input = dir.0.join("many.xml");
    std::fs::write(&input, report("many-1", &records)).unwrap();
    let config = write_config(
        &dir,
        "slow.toml",
        &format!(
            "[enrich]\nnameservers = [\"{}\"]\nrate_limit = 500\n",
            dns.address()
        ),
    );
    run(
        &config,
        &db,
        &["ingest", "--no-enrich", input.to_str().unwrap()],
        0,
    );
    let mut child = rua_with(&config, &db, &["enrich"]).spawn().unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "killed late");
    let kept = number(&db, "SELECT count(*) FROM ip_info") as usize;
    assert!(
        kept > 0 && kept < N,
        "{kept} of {N} answers before the kill"
    );

    let out = run(&config, &db, &["-v", "enrich"], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let missing = N - kept;
    assert!(
        stderr.contains(&format!(
            "enriched {missing} addresses ({missing} looked up"
        )),
        "{stderr}"
    );
    assert_eq!(
        number(&db, "SELECT count(DISTINCT ip) FROM ip_info") as usize,
        N
    );
    assert_eq!(number(&db, "SELECT count(*) FROM ip_info") as usize, N);
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM ip_info WHERE status = 'ok' AND ptr_confirmed AND ptr LIKE 'host-198-18-%.bench.test'"
        ) as usize,
        N
    );
}

#[test]
fn the_corpus_enriched_against_a_local_server() {
    let Some(corpus) = rua_testkit::corpus() else {
        return;
    };
    let Some(dns) = Dnsmasq::start("corpus", "") else {
        return;
    };
    let dir = TempDir::new("enrich-corpus");
    let db = dir.db();
    let config = write_config(
        &dir,
        "dns.toml",
        // A burst of 512 datagrams can overflow dnsmasq's socket buffer on a busy machine
        // (answers are lost, and time out): 64 in flight.
        &format!(
            "[enrich]\nnameservers = [\"{}\"]\nrate_limit = 0\nmax_in_flight = 64\n",
            dns.address()
        ),
    );
    let aggregate = corpus.join("aggregate");
    let out = rua_with(&config, &db, &["ingest", aggregate.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server knows no name: every public address is NXDOMAIN; loopback and private
    // ones (reporters do list them) are never asked.
    assert_eq!(
        number(
            &db,
            "SELECT count(DISTINCT source_ip) FROM records WHERE source_ip IS NOT NULL"
        ),
        number(
            &db,
            "SELECT count(*) FROM ip_info WHERE status IN ('nxdomain', 'private')"
        ),
        "every source address has an answered row"
    );
    assert!(
        number(
            &db,
            "SELECT count(*) FROM ip_info WHERE status = 'private' AND ip = '127.0.0.1'"
        ) == 1
    );
    let total = number(&db, "SELECT sum(message_count) FROM report_records");
    assert_eq!(
        number(&db, "SELECT sum(messages) FROM summary_by_sender"),
        total
    );
    // Real reports carry real signing domains: some senders are named by DKIM alone.
    assert!(
        number(
            &db,
            "SELECT count(*) FROM report_records WHERE sender_rule = 'dkim'"
        ) > 0
    );
}
