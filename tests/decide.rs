//! From numbers to decisions, end to end: every class rule on one report, then five weeks of
//! generated reports for six domains (ready for reject; a misconfigured ESP; forwarding
//! through a list and an ARC-sealing provider; a spoofing spike; a reporter going silent; a
//! policy change from none to quarantine) through `rua policy` and `rua alerts`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{TempDir, rua_ok, sql};

/// 2026-10-01T00:00:00Z: day 0 of the scenarios.
const DAY0: i64 = 1_790_812_800;

/// One record: source, messages, From domain, DKIM (domain, result) pairs, SPF (domain,
/// result), disposition, override reasons (type, comment).
#[derive(Clone)]
struct Rec<'a> {
    ip: &'a str,
    count: u64,
    dkim: Vec<(&'a str, &'a str)>,
    spf: (&'a str, &'a str),
    disposition: &'a str,
    reasons: &'a [(&'a str, &'a str)],
}

fn rec<'a>(
    ip: &'a str,
    count: u64,
    dkim: &[(&'a str, &'a str)],
    spf: (&'a str, &'a str),
) -> Rec<'a> {
    Rec {
        ip,
        count,
        dkim: dkim.to_vec(),
        spf,
        disposition: "none",
        reasons: &[],
    }
}

/// A daily aggregate report of `org` for `domain` on scenario day `day`.
fn report(org: &str, domain: &str, day: i64, policy: &str, records: &[Rec<'_>]) -> String {
    let begin = DAY0 + day * 86_400;
    let mut xml = format!(
        "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>{org}</org_name>\
         <email>dmarc@{org}</email><report_id>{org}-{domain}-{day}</report_id><date_range>\
         <begin>{begin}</begin><end>{}</end></date_range></report_metadata>\
         <policy_published><domain>{domain}</domain><p>{policy}</p><pct>100</pct></policy_published>\n",
        begin + 86_399
    );
    for r in records {
        let aligned = |d: &str| d == domain || d.ends_with(&format!(".{domain}"));
        let dkim_ok = r.dkim.iter().any(|(d, res)| *res == "pass" && aligned(d));
        let spf_ok = r.spf.1 == "pass" && aligned(r.spf.0);
        let verdict = |ok: bool| if ok { "pass" } else { "fail" };
        let reasons: String = r
            .reasons
            .iter()
            .map(|(t, c)| format!("<reason><type>{t}</type><comment>{c}</comment></reason>"))
            .collect();
        let dkim: String = r
            .dkim
            .iter()
            .map(|(d, res)| format!("<dkim><domain>{d}</domain><result>{res}</result></dkim>"))
            .collect();
        xml.push_str(&format!(
            "<record><row><source_ip>{}</source_ip><count>{}</count><policy_evaluated>\
             <disposition>{}</disposition><dkim>{}</dkim><spf>{}</spf>{reasons}</policy_evaluated>\
             </row><identifiers><header_from>{domain}</header_from></identifiers>\
             <auth_results>{dkim}<spf><domain>{}</domain><result>{}</result></spf>\
             </auth_results></record>\n",
            r.ip,
            r.count,
            r.disposition,
            verdict(dkim_ok),
            verdict(spf_ok),
            r.spf.0,
            r.spf.1
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

const CONFIG: &str = r#"
[enrich]
offline = true

[[enrich.sender]]
name = "Own servers"
type = "own"
networks = ["192.0.2.0/24"]

[[enrich.sender]]
name = "Big Mailbox"
type = "email_provider"
networks = ["198.18.0.0/24"]

[[enrich.sender]]
name = "Partner relay"
type = "transactional"
networks = ["198.18.1.0/24"]

[[enrich.sender]]
name = "Old vendor"
type = "marketing"
networks = ["198.18.2.0/24"]

[[enrich.source]]
sender = "Partner relay"
authorized = true
domain = "rules.example"

[[enrich.source]]
sender = "Old vendor"
authorized = false
"#;

struct Scenario {
    dir: TempDir,
    inbox: usize,
}

impl Scenario {
    fn new(name: &str) -> Scenario {
        let dir = TempDir::new(name);
        std::fs::write(dir.0.join("rua.toml"), CONFIG).unwrap();
        Scenario { dir, inbox: 0 }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.db()
    }

    fn rua(&self, args: &[&str], code: i32) -> String {
        let config = self.dir.0.join("rua.toml");
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        String::from_utf8(rua_ok(&self.db(), &all, code).stdout).unwrap()
    }

    /// Writes the reports to a new directory and ingests it.
    fn ingest(&mut self, reports: &[String]) {
        self.inbox += 1;
        let inbox = self.dir.0.join(format!("inbox-{}", self.inbox));
        std::fs::create_dir_all(&inbox).unwrap();
        for (i, xml) in reports.iter().enumerate() {
            std::fs::write(inbox.join(format!("{i:04}.xml")), xml).unwrap();
        }
        self.rua(&["ingest", "-q", inbox.to_str().unwrap()], 0);
    }

    /// `rua policy --format json`'s readiness rows, by domain.
    fn policy(&self, section: &str) -> Vec<serde_json::Value> {
        let out = self.rua(&["policy", "--format", "json", "--section", section], 0);
        serde_json::from_str::<Vec<serde_json::Value>>(&out).unwrap()
    }

    /// `rua alerts --format json`: the new alerts' keys, and the exit code checked.
    fn alerts(&self, expect_new: bool) -> Vec<String> {
        let out = self.rua(
            &["alerts", "--format", "json"],
            if expect_new { 6 } else { 0 },
        );
        let mut keys: Vec<String> = out
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["alert_key"].as_str().unwrap().to_owned()
            })
            .collect();
        keys.sort();
        keys
    }
}

#[test]
fn every_class_rule_decides_the_record_it_describes() {
    let mut s = Scenario::new("class-rules");
    let d = "rules.example";
    let fails = ("bounce.example", "fail");
    let records = [
        // (record, the rule, the class)
        (
            rec("192.0.2.1", 1, &[(d, "pass")], (d, "pass")),
            "dmarc_pass",
            "compliant",
        ),
        (
            rec(
                "198.18.2.1",
                2,
                &[("oldvendor.example", "pass")],
                ("oldvendor.example", "pass"),
            ),
            "config_never_authorized",
            "unauthorized",
        ),
        (
            rec("198.18.1.1", 3, &[("partner.example", "pass")], fails),
            "config_authorized",
            "misconfigured",
        ),
        (
            Rec {
                reasons: &[("forwarded", "")],
                ..rec("203.0.113.10", 4, &[], fails)
            },
            "reporter_says_forwarded",
            "forwarded",
        ),
        (
            Rec {
                reasons: &[("local_policy", "arc=pass as.example")],
                ..rec("203.0.113.11", 5, &[], fails)
            },
            "reporter_says_forwarded",
            "forwarded",
        ),
        (
            Rec {
                reasons: &[("local_policy", "arc=fail")],
                ..rec("203.0.113.12", 6, &[], fails)
            },
            "no_other_rule",
            "unauthorized",
        ),
        (
            rec(
                "209.85.220.5",
                7,
                &[(d, "fail"), ("googlegroups.com", "pass")],
                fails,
            ),
            "list_signature",
            "forwarded",
        ),
        (
            rec(
                "198.18.0.1",
                8,
                &[(d, "fail")],
                ("bigmailbox.example", "pass"),
            ),
            "from_signature_via_intermediary",
            "forwarded",
        ),
        (
            rec("192.0.2.2", 9, &[], fails),
            "own_source",
            "misconfigured",
        ),
        (
            rec(
                "198.51.100.20",
                10,
                &[("sendgrid.net", "pass")],
                ("sendgrid.net", "pass"),
            ),
            "known_sender_unaligned",
            "misconfigured",
        ),
        (
            rec("203.0.113.13", 11, &[], fails),
            "no_other_rule",
            "unauthorized",
        ),
    ];
    let recs: Vec<Rec<'_>> = records.iter().map(|(r, _, _)| r.clone()).collect();
    s.ingest(&[report("google.com", d, 0, "none", &recs)]);
    let got: BTreeMap<String, (String, String, String)> = sql(
        &s.db(),
        "SELECT source_ip, class_rule, class, coalesce(class_note, '') FROM report_records ORDER BY 1",
    )
    .into_iter()
    .map(|row| (row[0].clone(), (row[1].clone(), row[2].clone(), row[3].clone())))
    .collect();
    for (r, rule, class) in &records {
        let (got_rule, got_class, _) = &got[r.ip];
        assert_eq!(
            (got_rule.as_str(), got_class.as_str()),
            (*rule, *class),
            "{}",
            r.ip
        );
    }
    assert_eq!(
        got["198.51.100.20"].2,
        "sign with a DKIM key of your own domain (custom DKIM signing domain)"
    );
    assert_eq!(
        got["192.0.2.2"].2,
        "add the source to your SPF record (include) or sign its mail with DKIM"
    );
    assert_eq!(got["203.0.113.13"].2, "");
    // The policy's counts by class add up, from the same rules.
    let row = &s.policy("readiness")[0];
    let n = |k: &str| row[k].as_i64().unwrap();
    assert_eq!(
        (
            n("compliant"),
            n("forwarded"),
            n("misconfigured"),
            n("unauthorized")
        ),
        (1, 4 + 5 + 7 + 8, 3 + 9 + 10, 2 + 6 + 11)
    );
    assert_eq!(n("messages"), 66);
    assert_eq!(row["verdict"], "not enough data");

    // The classes came from `records`, where the enrichment after the ingest stored them,
    // and they are what the views compute.
    let classified = "SELECT count(*) FROM records WHERE class_rule IS NOT NULL";
    assert_eq!(common::number(&s.db(), classified), 11);
    if !stored_classes_are_computed(&s.db()) {
        return;
    }
    // What decides a class changes: Old vendor's verdict is dropped (source_overrides) and
    // Partner relay moves to another network (ip_info: 198.18.1.1 is nobody's now).
    // `rua enrich` works the stored classes of their records out again.
    let config = CONFIG
        .replace(
            "[[enrich.source]]\nsender = \"Old vendor\"\nauthorized = false\n",
            "",
        )
        .replace("198.18.1.0/24", "198.18.9.0/24");
    assert_ne!(config, CONFIG);
    std::fs::write(s.dir.0.join("rua.toml"), config).unwrap();
    s.rua(&["enrich"], 0);
    let rule = |ip: &str| {
        sql(
            &s.db(),
            &format!("SELECT class_rule, class FROM records WHERE source_ip = '{ip}'"),
        )[0]
        .clone()
    };
    assert_eq!(
        rule("198.18.2.1"),
        ["known_sender_unaligned", "misconfigured"]
    );
    assert_eq!(rule("198.18.1.1"), ["no_other_rule", "unauthorized"]);
    assert_eq!(rule("192.0.2.2"), ["own_source", "misconfigured"]);
    assert_eq!(common::number(&s.db(), classified), 11);
    assert!(stored_classes_are_computed(&s.db()));
}

/// Asserts that every class stored in `db` is the one the views compute
/// (tests/support/compare_classes.py, Python's DuckDB). False when that cannot run (outside
/// CI only, after saying so).
fn stored_classes_are_computed(db: &std::path::Path) -> bool {
    if !common::available("python3 duckdb", common::python_has("duckdb")) {
        return false;
    }
    let out = std::process::Command::new("python3")
        .arg(rua_testkit::repo_root().join("tests/support/compare_classes.py"))
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

const NONE: &[(&str, &str)] = &[];

/// Five weeks (days 0-34) of reports for the six scenario domains, and one short one.
fn five_weeks() -> Vec<String> {
    let mut reports = Vec::new();
    for day in 0..35 {
        let own = |d: &'static str, n| rec("192.0.2.10", n, &[(d, "pass")], (d, "pass"));
        let spoof = |n| rec("203.0.113.5", n, NONE, ("spoofer.example", "fail"));
        // Ready for reject: own mail aligned, a trickle of spoofing, three reporters.
        for org in ["google.com", "yahoo.com", "microsoft.com"] {
            reports.push(report(
                org,
                "ready.example",
                day,
                "none",
                &[own("ready.example", 100), spoof(2)],
            ));
        }
        // A misconfigured ESP: SendGrid signing as itself, bouncing to itself.
        for org in ["google.com", "yahoo.com"] {
            let sendgrid = rec(
                "198.51.100.20",
                20,
                &[("sendgrid.net", "pass")],
                ("sendgrid.net", "pass"),
            );
            reports.push(report(
                org,
                "esp.example",
                day,
                "none",
                &[own("esp.example", 50), sendgrid],
            ));
        }
        // Forwarding: a mailing list (reporter's reason), an ARC-sealing provider (local
        // policy, arc=pass), Google Groups re-signing, a mailbox provider forwarding with the
        // original signature broken.
        for org in ["google.com", "microsoft.com"] {
            let records = [
                own("list.example", 40),
                Rec {
                    reasons: &[("mailing_list", "")],
                    ..rec("203.0.113.40", 3, NONE, ("lists.example.net", "pass"))
                },
                Rec {
                    reasons: &[("local_policy", "arc=pass as.1.google.com")],
                    ..rec(
                        "203.0.113.41",
                        2,
                        &[("list.example", "fail")],
                        ("relay.example.net", "pass"),
                    )
                },
                rec(
                    "209.85.220.5",
                    4,
                    &[("list.example", "fail"), ("googlegroups.com", "pass")],
                    ("googlegroups.com", "pass"),
                ),
                rec(
                    "198.18.0.7",
                    1,
                    &[("list.example", "fail")],
                    ("bigmailbox.example", "pass"),
                ),
            ];
            reports.push(report(org, "list.example", day, "none", &records));
        }
        // Spoofing spike on day 33.
        for org in ["google.com", "yahoo.com"] {
            let mut records = vec![own("spoof.example", 30), spoof(1)];
            if day == 33 {
                records.push(rec(
                    "198.51.100.200",
                    300,
                    NONE,
                    ("spoofer.example", "fail"),
                ));
            }
            reports.push(report(org, "spoof.example", day, "none", &records));
        }
        // Yahoo reports silent.example daily until day 26, then never again.
        for org in ["google.com", "yahoo.com", "microsoft.com"] {
            if org != "yahoo.com" || day <= 26 {
                reports.push(report(
                    org,
                    "silent.example",
                    day,
                    "none",
                    &[own("silent.example", 20)],
                ));
            }
        }
        // p=none until day 29, p=quarantine from day 30 (spoofing is quarantined since).
        for org in ["google.com", "yahoo.com"] {
            let (policy, disposition) = if day < 30 {
                ("none", "none")
            } else {
                ("quarantine", "quarantine")
            };
            let records = [
                own("change.example", 25),
                Rec {
                    disposition,
                    ..spoof(1)
                },
            ];
            reports.push(report(org, "change.example", day, policy, &records));
        }
        // A domain that began reporting three days ago, by one reporter.
        if day >= 32 {
            reports.push(report(
                "google.com",
                "new.example",
                day,
                "none",
                &[own("new.example", 10)],
            ));
        }
    }
    reports
}

fn by_domain(rows: Vec<serde_json::Value>) -> BTreeMap<String, serde_json::Value> {
    rows.into_iter()
        .map(|r| (r["domain"].as_str().unwrap().to_owned(), r))
        .collect()
}

#[test]
fn five_weeks_of_six_domains_give_their_verdicts_simulations_and_alerts() {
    let mut s = Scenario::new("five-weeks");
    s.ingest(&five_weeks());

    // Readiness over the 30 days up to the newest report (days 5-34).
    let policy = by_domain(s.policy("readiness"));
    let n = |d: &str, k: &str| policy[d][k].as_i64().unwrap_or_else(|| panic!("{d} {k}"));
    let text = |d: &str, k: &str| policy[d][k].as_str().unwrap().to_owned();
    for (domain, row) in &policy {
        let classes: i64 = ["compliant", "forwarded", "misconfigured", "unauthorized"]
            .iter()
            .map(|k| row[*k].as_i64().unwrap())
            .sum();
        assert_eq!(classes, row["messages"].as_i64().unwrap(), "{domain}");
    }
    let counts = |d: &str| {
        (
            n(d, "compliant"),
            n(d, "forwarded"),
            n(d, "misconfigured"),
            n(d, "unauthorized"),
        )
    };
    assert_eq!(counts("ready.example"), (30 * 3 * 100, 0, 0, 30 * 3 * 2));
    assert_eq!(text("ready.example", "verdict"), "ready");
    assert_eq!(
        text("ready.example", "reasons"),
        "180 unauthorized messages (2.0%) would be quarantined or rejected"
    );
    assert_eq!(counts("esp.example"), (30 * 2 * 50, 0, 30 * 2 * 20, 0));
    assert_eq!(text("esp.example", "verdict"), "ready after fixes");
    assert!(
        text("esp.example", "reasons").contains("1200 messages of your own senders fail DMARC and would be blocked: fix SendGrid (1200) first"),
        "{}",
        text("esp.example", "reasons")
    );
    assert_eq!(counts("list.example"), (30 * 2 * 40, 30 * 2 * 10, 0, 0));
    assert_eq!(text("list.example", "verdict"), "ready");
    assert!(text("list.example", "reasons").starts_with("600 forwarded messages fail DMARC"));
    assert_eq!(counts("spoof.example"), (30 * 2 * 30, 0, 0, 30 * 2 + 600));
    assert_eq!(text("spoof.example", "verdict"), "ready");
    assert_eq!(counts("silent.example"), (30 * 20 * 2 + 22 * 20, 0, 0, 0));
    assert_eq!(text("change.example", "published"), "p=quarantine");
    assert_eq!(
        text("change.example", "policy_changes"),
        "2026-10-31: p=none -> p=quarantine"
    );
    assert!(
        text("change.example", "reasons")
            .ends_with("policy changed: 2026-10-31: p=none -> p=quarantine")
    );
    assert_eq!(text("new.example", "verdict"), "not enough data");
    assert_eq!(
        text("new.example", "reasons"),
        "reports on 3 days (at least 14 needed); 1 reporter (at least 2 needed)"
    );

    // Who sent it, summed over every domain: the own servers' mail, all passing.
    let out = s.rua(&["summary", "--by", "sender", "--format", "json"], 0);
    let senders: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let own = senders
        .iter()
        .find(|r| r["sender"] == "Own servers")
        .unwrap();
    assert_eq!(
        own["messages"],
        35 * (3 * 100 + 2 * 50 + 2 * 40 + 2 * 30 + 3 * 20 + 2 * 25) - 8 * 20 + 3 * 10
    );
    assert_eq!(own["dmarc_pass"], own["messages"]);

    // What enforcement would have done: every row adds up to the domain's messages.
    let simulation = s.policy("simulation");
    let mut scenarios: BTreeMap<(String, String), [i64; 6]> = BTreeMap::new();
    for row in &simulation {
        let parts = [
            "legitimate_delivered",
            "legitimate_quarantined",
            "legitimate_rejected",
            "unauthorized_delivered",
            "unauthorized_quarantined",
            "unauthorized_rejected",
        ]
        .map(|k| row[k].as_i64().unwrap());
        assert_eq!(
            parts.iter().sum::<i64>(),
            row["messages"].as_i64().unwrap(),
            "{row}"
        );
        let key = (
            row["domain"].as_str().unwrap().to_owned(),
            row["scenario"].as_str().unwrap().to_owned(),
        );
        scenarios.insert(key, parts);
    }
    let at = |d: &str, sc: &str| scenarios[&(d.to_owned(), sc.to_owned())];
    assert_eq!(at("esp.example", "p=reject"), [3000, 0, 1200, 0, 0, 0]);
    assert_eq!(at("esp.example", "p=quarantine"), [3000, 1200, 0, 0, 0, 0]);
    assert_eq!(at("spoof.example", "p=reject"), [1800, 0, 0, 0, 0, 660]);
    assert_eq!(at("list.example", "p=reject"), [2400, 0, 600, 0, 0, 0]);
    // As reported: change.example's spoofing has been quarantined since day 30.
    assert_eq!(
        at("change.example", "as reported (p=quarantine)"),
        [1500, 0, 0, 50, 10, 0]
    );
    // Strict alignment: own mail is signed by the exact From domain, so nothing changes.
    assert_eq!(
        at("ready.example", "p=reject adkim=s aspf=s"),
        at("ready.example", "p=reject")
    );

    // The senders to fix, with the fix.
    let senders = s.policy("senders");
    let esp: Vec<&serde_json::Value> = senders
        .iter()
        .filter(|r| r["domain"] == "esp.example")
        .collect();
    assert_eq!(esp.len(), 1);
    assert_eq!(esp[0]["sender"], "SendGrid");
    assert_eq!(esp[0]["messages"], 1200);
    assert_eq!(
        esp[0]["fix"],
        "sign with a DKIM key of your own domain (custom DKIM signing domain)"
    );

    // Alerts: exactly the events of the last 7 days, once.
    let expected = [
        "pass_rate_drop/spoof.example/2026-11-03",
        "policy_changed/change.example/2026-10-31",
        "reporter_silent/silent.example/yahoo.com/2026-10-27",
        "unauthorized_spike/spoof.example/2026-11-03",
    ];
    assert_eq!(s.alerts(true), expected);
    assert_eq!(s.alerts(false), Vec::<String>::new());
    let prom = s.dir.0.join("rua.prom");
    s.rua(&["alerts", "--prometheus", prom.to_str().unwrap()], 0);
    let prom = std::fs::read_to_string(prom).unwrap();
    assert!(
        prom.contains("rua_messages{domain=\"spoof.example\",class=\"unauthorized\"} 614\n"),
        "{prom}"
    );
    assert!(
        prom.contains("rua_alerts_open{domain=\"spoof.example\",kind=\"unauthorized_spike\"} 1\n"),
        "{prom}"
    );
    assert!(
        prom.contains("rua_reporters{domain=\"silent.example\"} 2\n"),
        "{prom}"
    );

    // A new event: Mailchimp starts sending as ready.example on day 35.
    let mailchimp = rec(
        "198.51.100.77",
        5,
        &[("mcsv.net", "pass")],
        ("mcsv.net", "pass"),
    );
    let own = rec(
        "192.0.2.10",
        100,
        &[("ready.example", "pass")],
        ("ready.example", "pass"),
    );
    s.ingest(&[report(
        "google.com",
        "ready.example",
        35,
        "none",
        &[own, mailchimp],
    )]);
    assert_eq!(s.alerts(true), ["new_source/ready.example/Mailchimp"]);
    assert_eq!(s.alerts(false), Vec::<String>::new());

    // Acknowledged alerts leave the open list, and the open-alert gauge.
    let open = |s: &Scenario| {
        s.rua(&["alerts", "list", "--format", "csv"], 0)
            .lines()
            .count()
            - 1
    };
    assert_eq!(open(&s), 5);
    s.rua(&["alerts", "ack", "new_source/ready.example/Mailchimp"], 0);
    assert_eq!(open(&s), 4);
    s.rua(&["alerts", "ack", "--all"], 0);
    assert_eq!(open(&s), 0);
    let all = s.rua(&["alerts", "list", "--all", "--format", "csv"], 0);
    assert_eq!(all.lines().count() - 1, 5);
}
