//! Runner benchmark: `dialtone run --spec all` against the bundled emulators (the same
//! suite, sessions and emulators the CLI builds), timed end to end, with `wrk` on one
//! emulator endpoint in the same process lifetime as the reference rate. Prints a
//! Markdown table; see docs/performance.md.
//!
//! Environment: `DIALTONE_BENCH_RUNS` (suite runs, default 3), `DIALTONE_BENCH_SECS`
//! (seconds per wrk run, default 3). wrk must be on PATH (`apt-get install wrk`); without
//! it the reference column says so.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use dialtone::emulator::faults::Faults;
use dialtone::harness;
use dialtone::harness::Run;
use dialtone::runner::{cases, Options, Suite};
use dialtone::spec;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// wrk's `Requests/sec:` figure.
fn wrk(url: &str, auth: &str, threads: u32, conns: u32, secs: u64) -> Option<f64> {
    let out = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "-H",
            &format!("Authorization: {auth}"),
            url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let non2xx = text.contains("Non-2xx");
    if non2xx {
        eprintln!("wrk saw non-2xx answers:\n{text}");
        return None;
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

fn main() {
    let runs = env_num("DIALTONE_BENCH_RUNS", 3) as usize;
    let secs = env_num("DIALTONE_BENCH_SECS", 3);
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
    );
    // The runner's side runs on the calling thread, as in `dialtone run`: its connection
    // tasks never hop threads; the emulators keep their own workers.
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let load = |n: &str| spec::load(&spec::resolve(n)).unwrap_or_else(|d| panic!("{n}: {d:?}"));
    let mut emulators = Vec::new();
    let mut profiles = Vec::new();
    for name in spec::BUNDLED {
        let l = harness::start_emulator(
            &rt,
            vec![load(name)],
            Faults::none(),
            dialtone::contract::DEFAULT_MAX_BODY,
        )
        .expect("emulator");
        profiles.push((name.to_string(), l.profile.clone()));
        emulators.push(l);
    }
    let make_suite = || {
        Suite::new(
            spec::BUNDLED.iter().map(|n| load(n)).collect(),
            cases::load_dir(&cases::bundled_dir()).expect("cases"),
        )
    };
    let tests = make_suite().tests.len();
    // libtest's own lines are not part of what is measured here.
    let args = libtest_mimic::Arguments::from_iter(["bench", "-q", "--logfile", "/dev/null"]);
    let client_rt = Arc::new(client_rt);
    // One whole run as `dialtone run --spec all` does it: (wall seconds, requests).
    // The read-only plan: the tests that may overlap on one target (`Session::independent`).
    let read_only = || {
        let mut s = make_suite();
        let probe = dialtone::runner::Session::new(
            profiles[0].1.clone(),
            &indexmap::IndexMap::new(),
            Options::default(),
        )
        .expect("session");
        s.tests.retain(|t| probe.independent(t));
        s
    };
    let reads = read_only().tests.len();
    let run_reads = |jobs: usize| -> (f64, u64) {
        let mut run = Run::per_api(
            client_rt.clone(),
            read_only(),
            profiles.clone(),
            Options::default(),
        )
        .expect("sessions");
        run.jobs = jobs;
        let t0 = Instant::now();
        let (_, report) = run.execute(&args, Arc::new(|_| {}));
        let wall = t0.elapsed().as_secs_f64();
        assert_eq!(
            report.totals().fail + report.totals().error,
            0,
            "the read-only plan must pass"
        );
        (wall, report.info.requests)
    };
    let run_once = |jobs: usize, response_oracle: bool| -> (f64, u64) {
        let mut run = Run::per_api(
            client_rt.clone(),
            make_suite(),
            profiles.clone(),
            Options {
                response_oracle,
                ..Options::default()
            },
        )
        .expect("sessions");
        run.jobs = jobs;
        let t0 = Instant::now();
        let (_, report) = run.execute(&args, Arc::new(|_| {}));
        let wall = t0.elapsed().as_secs_f64();
        let t = report.totals();
        assert_eq!(
            t.fail + t.error,
            0,
            "the suite must pass against the emulator"
        );
        (wall, report.info.requests)
    };

    // The reference: wrk on one read endpoint of the Mediant emulator, one connection
    // (the runner sends one request at a time) and, for context, 2 threads x 8.
    let mediant = &emulators[0];
    let url = format!("{}/api/v1/status", mediant.running.url);
    let auth = {
        let c = mediant
            .profile
            .credentials("mediant", "monitor")
            .unwrap()
            .unwrap();
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                c.user.unwrap(),
                c.secret.expose()
            ))
        )
    };

    // The runner's HTTP client alone, on the same endpoint, one request at a time: what
    // the suite could reach if judging cost nothing.
    let client_alone = {
        let mut specs = indexmap::IndexMap::new();
        specs.insert("mediant".to_string(), make_suite().specs["mediant"].clone());
        let session =
            dialtone::runner::Session::new(mediant.profile.clone(), &specs, Options::default())
                .expect("session");
        let auth = session
            .auth("mediant", "monitor")
            .cloned()
            .expect("monitor account");
        let mut req = dialtone::runner::Req::new("GET", "/api/v1/status");
        req.auth = auth;
        let n = 5000;
        client_rt.block_on(async {
            for _ in 0..200 {
                let _ = session.client.send(&req).await;
            }
            let t0 = Instant::now();
            for _ in 0..n {
                let (_, r) = session.client.send(&req).await;
                assert_eq!(r.expect("answer").status, 200);
            }
            n as f64 / t0.elapsed().as_secs_f64()
        })
    };
    let mut results: Vec<(usize, Vec<f64>, Vec<f64>, u64)> =
        vec![(1, vec![], vec![], 0), (8, vec![], vec![], 0)];
    // The same `--jobs 1` run without the response oracle, back to back with the others:
    // what judging every answer's body costs.
    let mut bare = Vec::new();
    // The read-only plan at `--jobs 1` and `--jobs 8`: requests per second.
    let mut read_rates: Vec<(usize, Vec<f64>)> = vec![(1, vec![]), (8, vec![])];
    let mut wrk1 = Vec::new();
    let mut wrk8 = Vec::new();
    for _ in 0..runs {
        // Alternate references and runs so that all see the same machine load.
        if let Some(r) = wrk(&url, &auth, 1, 1, secs) {
            wrk1.push(r);
        }
        bare.push(run_once(1, false).0);
        for (jobs, rates) in read_rates.iter_mut() {
            let (wall, n) = run_reads(*jobs);
            rates.push(n as f64 / wall);
        }
        for (jobs, walls, rates, reqs) in results.iter_mut() {
            let (wall, n) = run_once(*jobs, true);
            walls.push(wall);
            rates.push(n as f64 / wall);
            *reqs = n;
        }
        if let Some(r) = wrk(&url, &auth, 2, 8, secs) {
            wrk8.push(r);
        }
    }
    let list = |v: &[f64], p: usize| {
        v.iter()
            .map(|x| format!("{x:.p$}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("## Runner: `run --spec all` against the bundled emulators\n");
    println!("{tests} tests; the 64 MiB oversize probe is included (one per API).\n");
    println!("| measure | value |");
    println!("|---|---|");
    let w1 = (!wrk1.is_empty()).then(|| median(wrk1.clone()));
    let w8 = (!wrk8.is_empty()).then(|| median(wrk8.clone()));
    match w1 {
        Some(w) => println!(
            "| wrk -t1 -c1 GET /api/v1/status (median) | {w:.0} req/s (runs: {}) |",
            list(&wrk1, 0)
        ),
        None => println!("| wrk reference | wrk not found on PATH (`apt-get install wrk`) |"),
    }
    if let Some(w) = w8 {
        println!(
            "| wrk -t2 -c8 GET /api/v1/status (median) | {w:.0} req/s (runs: {}) |",
            list(&wrk8, 0)
        );
    }
    println!("| runner's HTTP client alone, same endpoint, sequential | {client_alone:.0} req/s |");
    for (jobs, walls, rates, reqs) in &results {
        let rate = median(rates.clone());
        println!(
            "| `--jobs {jobs}`: wall time (median of {runs}) | {:.2} s (runs: {}) |",
            median(walls.clone()),
            list(walls, 2)
        );
        println!("| `--jobs {jobs}`: requests per run | {reqs} |");
        println!(
            "| `--jobs {jobs}`: runner requests/s (median) | {rate:.0} (runs: {}) |",
            list(rates, 0)
        );
        if let Some(w) = w1 {
            println!("| `--jobs {jobs}`: runner / wrk -c1 | {:.2} |", rate / w);
        }
        if let Some(w) = w8 {
            println!("| `--jobs {jobs}`: runner / wrk -c8 | {:.2} |", rate / w);
        }
    }
    for (jobs, rates) in &read_rates {
        let rate = median(rates.clone());
        println!(
            "| read-only plan ({reads} tests), `--jobs {jobs}`: requests/s (median) | {rate:.0} (runs: {}) |",
            list(rates, 0)
        );
        if let Some(w) = w8 {
            println!(
                "| read-only plan, `--jobs {jobs}`: runner / wrk -c8 | {:.2} |",
                rate / w
            );
        }
    }
    let with = median(results[0].1.clone());
    let without = median(bare.clone());
    println!(
        "| `--jobs 1` without the response oracle (median) | {without:.2} s (runs: {}) |",
        list(&bare, 2)
    );
    println!(
        "| `--jobs 1`: with the oracle / without | {:.2} |",
        with / without
    );
    for l in emulators {
        rt.block_on(l.running.shutdown());
    }
}
