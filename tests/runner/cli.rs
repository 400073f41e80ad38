//! `dialtone run` as a user runs it: exit codes, reports on disk, libtest options, bad
//! arguments, the request-rate cap.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{dialtone_in, scratch_dir};

/// The scratch directory of these tests.
fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner_cli");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dialtone(args: &[&str]) -> Output {
    // Run where stored regressions land in a scratch directory, not in the checkout.
    dialtone_in(&scratch(), args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> PathBuf {
    scratch().join(name)
}

#[test]
fn conformant_run_exits_0_and_writes_every_report() {
    let (j, x, h) = (tmp("ok.json"), tmp("ok.xml"), tmp("ok.html"));
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "-q",
        "--body-limit",
        "1048576",
        "--json",
        j.to_str().unwrap(),
        "--junit",
        x.to_str().unwrap(),
        "--html",
        h.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(report["schema"], "dialtone-run/1");
    assert_eq!(report["emulator"], true);
    let results = report["results"].as_array().unwrap();
    assert!(results.len() > 100, "{}", results.len());
    assert!(results
        .iter()
        .all(|r| r["verdict"] != "fail" && r["verdict"] != "error"));
    assert!(
        results.iter().any(|r| r["kind"] == "case"),
        "cases are part of the run"
    );
    let junit = std::fs::read_to_string(&x).unwrap();
    let cases = junit.matches("<testcase").count();
    assert_eq!(cases, results.len(), "one JUnit test case per result");
    assert!(!junit.contains("<failure"), "{junit}");
    let mut reader = quick_xml::Reader::from_str(&junit);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit is not XML: {e}"),
        }
    }
    assert!(std::fs::read_to_string(&h)
        .unwrap()
        .contains("roaming-profile"));
}

#[test]
fn a_fault_exits_1_names_the_rule_and_prints_a_reproducer() {
    let j = tmp("fault.json");
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--fault",
        "skip-completeness",
        "--body-limit",
        "1048576",
        "--json",
        j.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("curl -sS -i"), "{out}");
    assert!(!out.contains("reseller-dialtone"), "a secret leaked: {out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    let failing: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        failing
            .iter()
            .any(|id| id.contains("/completeness/") && id.contains("/omit-")),
        "{failing:?}"
    );
    let first = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["verdict"] == "fail")
        .unwrap();
    assert!(first["expected"].is_string() && first["actual"].is_string());
    assert!(first["exchanges"][0]["curl"]
        .as_str()
        .unwrap()
        .contains("$DIALTONE_"));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    for (args, want) in [
        (vec!["run", "--spec", "nosuch"], "no such spec"),
        (
            vec!["run", "--spec", "mediant", "--rate", "0"],
            "--rate must be",
        ),
        (
            vec![
                "run",
                "--spec",
                "mediant",
                "--target",
                "http://127.0.0.1:9",
                "--fault",
                "404-for-405",
            ],
            "--fault applies to the bundled emulator",
        ),
        (
            vec!["run", "--spec", "mediant", "--fault", "no-allow-headr"],
            "did you mean `no-allow-header`",
        ),
        (
            vec![
                "run",
                "--spec",
                "mediant",
                "--profile",
                "/nonexistent/p.toml",
            ],
            "/nonexistent/p.toml",
        ),
    ] {
        let o = dialtone(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
}

#[test]
fn target_urls_with_credentials_or_bad_ports_are_refused() {
    let dir = scratch_dir("target-url");
    let profile = dir.join("p.toml");
    std::fs::write(&profile, "[target]\nurl = \"http://127.0.0.1:9\"\n").unwrap();
    let profile = profile.to_str().unwrap();
    for (url, want) in [
        (
            "http://admin:s3cretpw@127.0.0.1:9",
            "must not contain a user or password",
        ),
        ("http://127.0.0.1:99999", "invalid port `99999`"),
        ("http://127.0.0.1:0", "invalid port `0`"),
    ] {
        for with_profile in [true, false] {
            let mut args = vec!["run", "--spec", "roaming-profile", "--timeout", "1"];
            args.extend(["--target", url]);
            if with_profile {
                args.extend(["--profile", profile]);
            }
            let o = dialtone(&args);
            let t = text(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
            assert!(t.contains("--target") && t.contains(want), "{args:?}: {t}");
            assert!(
                !t.contains("s3cretpw"),
                "{args:?} printed the password: {t}"
            );
        }
    }
}

#[test]
fn a_profile_that_does_not_fit_the_spec_is_an_error_that_names_the_key() {
    let dir = scratch_dir("profile-fit");
    let url = "[target]\nurl = \"http://127.0.0.1:9\"\n";
    let account = |key: &str| format!("[accounts.\"{key}\"]\npassword_env = \"DT_PW\"\n");
    for (name, profile_text, want) in [
        (
            "api",
            format!("{url}api = \"rome\"\n"),
            "the profile is for API `rome`",
        ),
        (
            "role",
            format!("{url}api = \"mediant\"\n{}", account("adminstrator")),
            "did you mean `administrator`?",
        ),
        (
            "api-prefix",
            format!("{url}{}", account("mediantt.administrator")),
            "did you mean `mediant`?",
        ),
    ] {
        let p = dir.join(format!("{name}.toml"));
        std::fs::write(&p, profile_text).unwrap();
        let o = dialtone(&["run", "--spec", "mediant", "--profile", p.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {t}");
        assert!(
            t.contains(want) && t.contains(&format!("{name}.toml:")),
            "{name}: {t}"
        );
    }
    // Accounts for another bundled API are for runs of that API, not mistakes.
    let p = dir.join("other.toml");
    std::fs::write(&p, format!("{url}{}", account("rome.rome-rw"))).unwrap();
    let o = dialtone(&[
        "run",
        "--spec",
        "mediant",
        "--profile",
        p.to_str().unwrap(),
        "--timeout",
        "1",
    ]);
    assert!(!text(&o).contains("names no"), "{}", text(&o));
}

#[test]
fn an_unreachable_device_gives_errors_and_exit_2() {
    // Port 9 (discard) on loopback: nothing listens; every read test is an error verdict,
    // and tests that need accounts are skipped (no profile).
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--target",
        "http://127.0.0.1:9",
        "--timeout",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot connect"), "{}", text(&o));
}

#[test]
fn libtest_options_list_filter_and_exact() {
    let o = dialtone(&["run", "--spec", "mediant", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(listed.contains("mediant/alarms/active/cursor/walk-forward: test"));
    assert!(listed.lines().count() > 1000);

    let o = dialtone(&[
        "run",
        "--spec",
        "mediant",
        "--exact",
        "mediant/alarms/active/cursor/walk-forward",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("1 passed"), "{out}");
    assert!(out.contains("filtered out"), "{out}");
}

#[test]
fn the_rate_cap_spaces_requests() {
    // 20 requests per second: a filtered run of the alarm cursor walk (dozens of requests)
    // cannot finish in under a second. Only a lower bound is checked; a slow machine can
    // only make it longer.
    let j = tmp("rate.json");
    let o = dialtone(&[
        "run",
        "--spec",
        "mediant",
        "--rate",
        "20",
        "--exact",
        "mediant/alarms/active/cursor/limit",
        "--json",
        j.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    let n = report["requests"].as_u64().unwrap();
    let ms = report["duration_ms"].as_f64().unwrap();
    assert!(n >= 4, "{n}");
    assert!(
        ms >= (n - 1) as f64 * 50.0 * 0.9,
        "{n} requests in {ms} ms at 20/s"
    );
}

#[test]
fn a_property_failure_is_shrunk_and_its_seed_reproduces_it() {
    let run = || {
        dialtone(&[
            "run",
            "--spec",
            "sipxconfig",
            "--fault",
            "skip-value-checks",
            "--seed",
            "42",
            "--cases",
            "8",
            "--no-regressions",
            "erl/elin/property",
        ])
    };
    let first = run();
    let second = run();
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let lines = |o: &Output| -> Vec<String> {
        text(o)
            .lines()
            .filter(|l| l.starts_with("non-conformance:"))
            .map(str::to_string)
            .collect()
    };
    let a = lines(&first);
    assert!(!a.is_empty(), "{}", text(&first));
    assert!(a.iter().all(|l| l.contains("seed 42")), "{a:?}");
    // The shrunk value is the simplest breaking one: a one-character digit-string breaker.
    assert!(a.iter().any(|l| l.contains("elin = \"")), "{a:?}");
    assert_eq!(
        a,
        lines(&second),
        "the same seed must give the same failure"
    );
}

/// `dialtone snapshot record`, then `dialtone run --snapshots`: clean against the same
/// answers; a changed baseline is a failure with a diff, left for `dialtone snapshot
/// review`, which accepts or rejects it.
#[test]
fn snapshot_record_run_and_review() {
    let dir = tmp("snapshots-cli");
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    // The snapshot tests of rome against the baseline in `dir`.
    let run = || {
        dialtone(&[
            "run",
            "--spec",
            "rome",
            "--snapshots",
            d,
            "-q",
            "/snapshot/",
        ])
    };
    let o = dialtone(&["snapshot", "record", "--spec", "rome", "--dir", d, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let file = dir.join("rome/stats__system-qps-stats__GET.snap");
    assert!(file.is_file(), "no snapshot at {}", file.display());
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // An edited baseline stands for an answer that drifted.
    let old = std::fs::read_to_string(&file).unwrap();
    assert!(old.contains("systemQpsStats"));
    std::fs::write(&file, old.replace("systemQpsStats\"", "systemQpsStatz\"")).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("rome/stats/system-qps-stats/snapshot/GET"),
        "{out}"
    );
    assert!(out.contains("-    \"systemQpsStatz\": {"), "{out}");
    assert!(out.contains("+    \"systemQpsStats\": {"), "{out}");
    assert!(dir
        .join("rome/stats__system-qps-stats__GET.snap.new")
        .is_file());

    let o = dialtone(&["snapshot", "review", "--dir", d, "--reject-all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 accepted, 1 rejected"), "{}", text(&o));
    assert!(!dir
        .join("rome/stats__system-qps-stats__GET.snap.new")
        .exists());
    // Run again (the drift is back as pending), then accept it: the baseline is the answer.
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = dialtone(&["snapshot", "review", "--dir", d, "--accept-all"]);
    assert!(text(&o).contains("1 accepted, 0 rejected"), "{}", text(&o));
    assert!(!std::fs::read_to_string(&file)
        .unwrap()
        .contains("systemQpsStatz"));
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = dialtone(&[
        "run",
        "--spec",
        "rome",
        "--snapshots",
        "/nonexistent/dir",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("no such snapshot directory"),
        "{}",
        text(&o)
    );
}

/// `--time-budget` bounds the property tests: with none left, each runs its first case
/// only and says so; the report carries the budget, the seed and the case count.
#[test]
fn the_time_budget_stops_properties_after_their_first_case() {
    let j = tmp("budget.json");
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--no-regressions",
        "--time-budget",
        "0",
        "--cases",
        "50",
        "--seed",
        "9",
        "--json",
        j.to_str().unwrap(),
        "property",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("seed: 9    cases: 50    time budget: 0 s"),
        "{}",
        text(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(report["time_budget_s"].as_f64(), Some(0.0));
    assert_eq!(report["cases"].as_u64(), Some(50));
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 5, "{results:?}");
    for r in results {
        let note = r["note"].as_str().unwrap_or_default();
        assert!(
            note.contains("stopped after 1 of 50 cases"),
            "{}: {note}",
            r["id"]
        );
    }
    let o = dialtone(&["run", "--spec", "roaming-profile", "--time-budget", "-1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `dialtone emulate ARGS --write-profile PROFILE`, serving until dropped.
struct Emulating(std::process::Child);

impl Emulating {
    /// Start the emulator and return once it has written its whole profile.
    fn start(args: &[&str], profile: &Path) -> Emulating {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(args)
            .arg("--write-profile")
            .arg(profile)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the emulator");
        let emulating = Emulating(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        // The profile is written in one go after the server listens; it ends with accounts.
        let written = |p: &Path| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains("[accounts.") && t.ends_with('\n'))
        };
        while !written(profile) {
            assert!(
                std::time::Instant::now() < deadline,
                "no profile from {args:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        emulating
    }
}

impl Drop for Emulating {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The README's own pair of commands: one emulator serving every API on one port, and the
/// whole suite run against it through the profile it writes. APIs that share a base path
/// (`/api`) must each get their own requests.
#[test]
fn the_suite_passes_against_emulate_spec_all_through_its_profile() {
    let profile = scratch_dir("emulate-all").join("p.toml");
    let _emulator = Emulating::start(&["emulate", "--spec", "all"], &profile);
    let o = dialtone(&[
        "run",
        "--spec",
        "all",
        "--profile",
        profile.to_str().unwrap(),
        "-q",
    ]);
    let t = text(&o);
    let failed: Vec<&str> = t
        .lines()
        .filter(|l| l.contains("FAILED"))
        .take(20)
        .collect();
    assert_eq!(o.status.code(), Some(0), "{}", failed.join("\n"));
}

/// `emulate --tls --write-profile` trusts the certificate it made, not any certificate.
#[test]
fn a_tls_emulator_profile_names_its_certificate() {
    let dir = scratch_dir("emulate-tls");
    let profile = dir.join("tls.toml");
    let _emulator = Emulating::start(&["emulate", "--spec", "roaming-profile", "--tls"], &profile);
    let written = std::fs::read_to_string(&profile).unwrap();
    assert!(written.contains("ca_file = \"tls-ca.pem\""), "{written}");
    assert!(
        !written.contains("insecure_skip_verify = true"),
        "{written}"
    );
    assert!(dir.join("tls-ca.pem").exists());
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--profile",
        profile.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Without the certificate: one error up front, no run of identical TLS failures.
    let untrusted = dir.join("untrusted.toml");
    std::fs::write(
        &untrusted,
        written.replace("ca_file = \"tls-ca.pem\"\n", ""),
    )
    .unwrap();
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--profile",
        untrusted.to_str().unwrap(),
        "-q",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert_eq!(t.matches("not trusted").count(), 1, "{t}");
    assert!(
        !t.contains("test result"),
        "tests ran against an untrusted target: {t}"
    );
}

/// A `ca_file` that holds no certificate is one setup error, not a run of TLS failures.
#[test]
fn a_ca_file_without_a_certificate_is_refused() {
    let dir = scratch_dir("empty-ca");
    std::fs::write(dir.join("ca.pem"), "not a certificate\n").unwrap();
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        "[target]\nurl = \"https://127.0.0.1:9\"\n[tls]\nca_file = \"ca.pem\"\n",
    )
    .unwrap();
    let o = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--profile",
        p.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("holds no PEM certificate"), "{t}");
}

/// Two shards of the roaming-profile suite, merged, are the whole run: the same tests,
/// verdicts and exit code; `list --partition` shows each shard's plan; a bad partition is
/// refused with the accepted forms.
#[test]
fn shards_merge_into_the_whole_run() {
    let dir = tmp("shards");
    let path = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let whole = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "-q",
        "--json",
        &path("all.json"),
    ]);
    for k in 1..=2 {
        let shard = format!("hash:{k}/2");
        let o = dialtone(&[
            "run",
            "--spec",
            "roaming-profile",
            "-q",
            "--partition",
            &shard,
            "--json",
            &path(&format!("{k}.json")),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let merged = dialtone(&[
        "report",
        "merge",
        &path("1.json"),
        &path("2.json"),
        "--json",
        &path("merged.json"),
        "-q",
    ]);
    assert_eq!(
        merged.status.code(),
        whole.status.code(),
        "{}",
        text(&merged)
    );
    let verdicts = |f: &str| -> std::collections::BTreeMap<String, String> {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (a, m) = (verdicts("all.json"), verdicts("merged.json"));
    assert!(a.len() > 100, "{} tests", a.len());
    assert_eq!(a, m);
    let one = verdicts("1.json");
    assert!(
        !one.is_empty() && one.len() < a.len(),
        "shard 1 has {} of {}",
        one.len(),
        a.len()
    );
    // The listed shards split the plan between them.
    let count = |args: &[&str]| {
        let o = dialtone(args);
        text(&o)
            .lines()
            .filter(|l| l.contains("roaming-profile/"))
            .count()
    };
    let all = count(&["list", "--spec", "roaming-profile"]);
    let parts: usize = (1..=2)
        .map(|k| {
            count(&[
                "list",
                "--spec",
                "roaming-profile",
                "--partition",
                &format!("hash:{k}/2"),
            ])
        })
        .sum();
    assert_eq!(parts, all);
    // Reports of another run are refused, naming the field.
    let refused = dialtone(&["report", "merge", &path("1.json"), &path("all.json")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused).contains("partition"), "{}", text(&refused));
    let bad = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--partition",
        "count:3/2",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("count:K/N"), "{}", text(&bad));
}

/// A fleet of four devices: two clean emulators, one with a fault and one that accepts
/// connections and never answers. The run ends within its bound and gives each device its
/// own verdict and reports: two conformant, one non-conformant, one error.
#[test]
fn a_fleet_run_gives_each_device_its_own_verdict_even_when_one_hangs() {
    use crate::common::{runtime, spec, start_emulator, BODY_LIMIT};
    let dir = scratch_dir("fleet");
    let rt = runtime();
    let mut live = Vec::new();
    for (name, faults) in [
        ("a", &[][..]),
        ("b", &[][..]),
        ("c", &["delete-referenced"][..]),
    ] {
        let l = start_emulator(&rt, spec("roaming-profile"), faults, BODY_LIMIT);
        std::fs::write(dir.join(format!("{name}.toml")), l.profile.to_toml()).unwrap();
        live.push(l);
    }
    // Accepts and holds every connection, and never says a word.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_url = format!("http://{}", hang.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in hang.incoming().flatten() {
            held.push(c);
        }
    });
    let silent = live[0]
        .profile
        .to_toml()
        .replace("emulator = true", "emulator = false")
        .lines()
        .map(|l| {
            if l.starts_with("token = ") || l.starts_with("password = ") {
                let key = l.split(' ').next().unwrap();
                format!("{key}_env = \"DIALTONE_FLEET_SECRET\"")
            } else if l.starts_with("url = ") {
                format!("url = \"{hang_url}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("d.toml"), silent).unwrap();
    std::fs::write(
        dir.join("fleet.toml"),
        "[[device]]\nname = \"clean-a\"\nprofile = \"a.toml\"\n\
         [[device]]\nname = \"clean-b\"\nprofile = \"b.toml\"\n\
         [[device]]\nname = \"faulty\"\nprofile = \"c.toml\"\n\
         [[device]]\nname = \"silent\"\nprofile = \"d.toml\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let started = std::time::Instant::now();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .current_dir(&dir)
        .env("DIALTONE_FLEET_SECRET", "not-a-token")
        .args([
            "run",
            "--spec",
            "roaming-profile",
            "--targets",
            "fleet.toml",
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            "1",
            "--stop-after-errors",
            "3",
            "-q",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    let t = text(&o);
    assert!(
        took < std::time::Duration::from_secs(60),
        "took {took:?}\n{t}"
    );
    assert_eq!(o.status.code(), Some(1), "{t}");
    let row = |name: &str| {
        t.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {t}"))
            .to_string()
    };
    assert!(
        row("clean-a").ends_with("conformant") && !row("clean-a").contains("NON"),
        "{t}"
    );
    assert!(
        row("clean-b").ends_with("conformant") && !row("clean-b").contains("NON"),
        "{t}"
    );
    assert!(row("faulty").contains("NON-CONFORMANT"), "{t}");
    assert!(row("silent").contains("ERROR"), "{t}");
    // The table comes first.
    assert!(t.starts_with("DEVICE"), "{t}");
    for name in ["clean-a", "clean-b", "faulty", "silent"] {
        for ext in ["json", "junit.xml", "html"] {
            assert!(
                out.join(format!("{name}.{ext}")).is_file(),
                "{name}.{ext} missing"
            );
        }
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("silent.json")).unwrap()).unwrap();
    let errors = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "error")
        .count();
    assert!(errors > 0, "the silent device has no error verdict");
    for l in live {
        rt.block_on(l.running.shutdown());
    }
}

/// A baseline drafted from a faulty run turns it from exit 1 into exit 0, listing the known
/// failures; without one of its entries the run exits 1 again; against a clean emulator its
/// entries are reported as fixed.
#[test]
fn a_baseline_gates_on_new_failures_only() {
    let dir = tmp("baseline");
    let path = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let faulty = [
        "run",
        "--spec",
        "roaming-profile",
        "--fault",
        "delete-referenced",
    ];
    let o = dialtone(&[&faulty[..], &["-q", "--json", &path("r.json")]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let w = dialtone(&[
        "baseline",
        "write",
        "--from",
        &path("r.json"),
        "--out",
        &path("b.toml"),
    ]);
    assert_eq!(w.status.code(), Some(0), "{}", text(&w));
    let draft = std::fs::read_to_string(dir.join("b.toml")).unwrap();
    let entries = draft.matches("[[known]]").count();
    assert!(entries >= 2, "{draft}");
    let known = dialtone(&[&faulty[..], &["--baseline", &path("b.toml")]].concat());
    let t = text(&known);
    assert_eq!(known.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!("{entries} known")) && t.contains("Known failures"),
        "{t}"
    );
    // One entry fewer: its failure is new again.
    let parts: Vec<&str> = draft.split("\n[[known]]\n").collect();
    let fewer = [&parts[..parts.len() - 1]].concat().join("\n[[known]]\n");
    std::fs::write(dir.join("fewer.toml"), fewer).unwrap();
    let again = dialtone(&[&faulty[..], &["-q", "--baseline", &path("fewer.toml")]].concat());
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    // Against a clean emulator every entry is fixed.
    let clean = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--baseline",
        &path("b.toml"),
    ]);
    let t = text(&clean);
    assert_eq!(clean.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "remove their entries from the baseline ({entries})"
        )),
        "{t}"
    );
    // A bad baseline is an error that names its line.
    std::fs::write(dir.join("bad.toml"), "[[known]]\ntest = \"x\"\n").unwrap();
    let bad = dialtone(&[
        "run",
        "--spec",
        "roaming-profile",
        "--baseline",
        &path("bad.toml"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("bad.toml:"), "{}", text(&bad));
}

/// `certify` against the emulator, and against it with a fault, writes bundles that
/// verify; one changed byte in a bundle, or a changed spec file, makes `verify` refuse it.
#[test]
fn certify_bundles_verify_and_a_changed_byte_is_refused() {
    let dir = tmp("certify");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clean = dir.join("clean");
    let o = dialtone(&[
        "certify",
        "--spec",
        "roaming-profile",
        "--out",
        clean.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let faulty = dir.join("faulty");
    let o = dialtone(&[
        "certify",
        "--spec",
        "roaming-profile",
        "--fault",
        "delete-referenced",
        "--out",
        faulty.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    for b in [&clean, &faulty] {
        for f in [
            "report.json",
            "report.junit.xml",
            "report.html",
            "manifest.json",
            "SHA256SUMS",
        ] {
            assert!(b.join(f).is_file(), "{} lacks {f}", b.display());
        }
        let archive = b.with_file_name(format!(
            "{}.tar.gz",
            b.file_name().unwrap().to_string_lossy()
        ));
        assert!(
            std::fs::metadata(&archive).unwrap().len() > 1000,
            "{}",
            archive.display()
        );
        let v = dialtone(&["certify", "verify", b.to_str().unwrap()]);
        assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    }
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(faulty.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["verdict"], "non-conformant");
    assert_eq!(m["exit_code"], 1);
    assert_eq!(m["specs"][0]["name"], "roaming-profile");
    assert!(m["specs"][0]["files"].as_object().unwrap().len() >= 3);
    assert!(m["specs"][0]["decisions"]["error-identity"].is_string());
    // One byte changed.
    let report = clean.join("report.json");
    let mut bytes = std::fs::read(&report).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&report, bytes).unwrap();
    let v = dialtone(&["certify", "verify", clean.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "{}", text(&v));
    assert!(text(&v).contains("report.json"), "{}", text(&v));
    // A spec file changed after the run.
    let copy = dir.join("copy").join("roaming-profile");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(dialtone::spec::resolve("roaming-profile")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let own = dir.join("own-spec");
    let o = dialtone(&[
        "certify",
        "--spec",
        copy.to_str().unwrap(),
        "--out",
        own.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        dialtone(&["certify", "verify", own.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let rules = copy.join("rules.toml");
    let mut t = std::fs::read_to_string(&rules).unwrap();
    t.push_str("\n# changed after the run\n");
    std::fs::write(&rules, t).unwrap();
    let v = dialtone(&["certify", "verify", own.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "{}", text(&v));
    assert!(
        text(&v).contains("rules.toml") && text(&v).contains("changed"),
        "{}",
        text(&v)
    );
    // A certify into a directory that holds something is refused before any run.
    let again = dialtone(&[
        "certify",
        "--spec",
        "roaming-profile",
        "--out",
        clean.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
}
