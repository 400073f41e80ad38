//! The `dialtone` command line. This is the only place that uses `anyhow` and prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use dialtone::plan;

/// mimalloc: the emulator allocates many small, short-lived objects per request, where
/// glibc's allocator contends on its arena locks (measured in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use dialtone::spec::{self, Spec};

/// Exit code: everything clean.
const EXIT_OK: u8 = 0;
/// Exit code: the input (spec, arguments) has problems.
const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "dialtone",
    version,
    about = "Conformance suite and fuzzer for telecom REST management APIs"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check spec files and report every problem with file:line:col (exit 0 clean, 2 otherwise).
    Lint {
        /// Spec files or directories; a directory holding spec directories lints each.
        /// Default: the bundled `specs/`.
        paths: Vec<PathBuf>,
        /// Print diagnostics as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Print the test plan a spec implies: one entry per matrix cell and rule.
    List {
        /// `mediant`, `sipxconfig`, `rome`, `roaming-profile`, `all`, or a path.
        #[arg(long)]
        spec: String,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Print only counts per API and kind.
        #[arg(long, conflicts_with = "json")]
        counts: bool,
    },
    /// Serve the bundled emulator for one spec (or `all`) until interrupted.
    ///
    /// The first line on stdout is the base URL.
    Emulate {
        /// `mediant`, `sipxconfig`, `rome`, `roaming-profile`, `all`, or a path.
        #[arg(long, required_unless_present = "list_faults")]
        spec: Option<String>,
        /// Address to listen on; the default is a free loopback port.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Serve HTTPS with a self-signed certificate generated at start.
        #[arg(long)]
        tls: bool,
        /// Commit a fault from the catalogue (repeatable); see --list-faults.
        #[arg(long = "fault", value_name = "NAME")]
        faults: Vec<String>,
        /// Write a target profile for this instance to FILE.
        #[arg(long, value_name = "FILE")]
        write_profile: Option<PathBuf>,
        /// Print the fault catalogue with the rule each fault breaks, and exit.
        #[arg(long)]
        list_faults: bool,
    },
    /// Run the conformance suite against a target: the bundled emulator (default) or a
    /// device (`--target URL --profile FILE`).
    ///
    /// Exit codes: 0 conformant, 1 non-conformance found, 2 setup, spec, argument or
    /// target errors (including a run whose only problems are error verdicts).
    /// libtest options work as with `cargo test`: a FILTER, `--exact`, `--skip`, `--list`,
    /// `--ignored` (shows what was skipped), `-q`, `--format`.
    Run(Box<RunArgs>),
    /// Record response snapshots of a target as a baseline, or review pending changes.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Fuzz a target over the network: mutated valid requests, judged by an oracle (no 5xx,
    /// no hang, no dropped connection, answers the spec documents). Findings are minimized
    /// and saved as replayable case files with curl reproducers (docs/fuzz.md).
    ///
    /// Exit codes: 0 no finding, 1 findings, 2 setup or argument errors.
    Fuzz(Box<FuzzArgs>),
    /// Write a spec in another format to stdout.
    Export {
        #[arg(value_enum)]
        format: ExportFormat,
        #[arg(long)]
        spec: String,
    },
}

#[derive(Subcommand)]
enum SnapshotCmd {
    /// Record every readable endpoint's normalised answer into DIR (one `.snap` file each,
    /// insta's layout). `dialtone run --snapshots DIR` then reports each drift.
    #[command(
        override_usage = "dialtone snapshot record --spec NAME [--target URL --profile FILE] --dir DIR [OPTIONS]"
    )]
    Record {
        /// Directory of the baseline; created if missing, existing snapshots are replaced.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        run: Box<RunArgs>,
    },
    /// Show each pending change (`.snap.new`) under DIR as a diff and accept or reject it.
    Review {
        #[arg(long, value_name = "DIR", default_value = "snapshots")]
        dir: PathBuf,
        /// Accept every pending change without asking.
        #[arg(long, conflicts_with = "reject_all")]
        accept_all: bool,
        /// Reject (delete) every pending change without asking.
        #[arg(long)]
        reject_all: bool,
    },
}

#[derive(clap::Args)]
#[command(
    override_usage = "dialtone run --spec NAME [--target URL --profile FILE] [OPTIONS] [FILTER]",
    help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}"
)]
struct RunArgs {
    /// `mediant`, `sipxconfig`, `rome`, `roaming-profile`, `all`, or a path.
    #[arg(long)]
    spec: String,
    /// Base URL of the device to test; overrides the profile's `url`. Without it, the
    /// bundled emulator is started on a loopback port and tested over HTTP.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Target profile: TLS trust and one account per role (docs/target-profile.md).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Also enforce should-level rules and the preferred outcome of every cell.
    #[arg(long)]
    strict: bool,
    /// Allow `write` or `disruptive` tests against a device (repeatable). Against the
    /// emulator everything runs.
    #[arg(long = "allow", value_enum, value_name = "CLASS")]
    allow: Vec<AllowClass>,
    /// At most N requests per second.
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Seconds one test may take in all.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    test_budget: f64,
    /// Largest response body read, in bytes; a bigger one is an error verdict.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_body: usize,
    /// Request body size the target must refuse above (the oversize probe sends one byte
    /// more); also the limit of the bundled emulator.
    #[arg(long, value_name = "BYTES", default_value_t = dialtone::contract::DEFAULT_MAX_BODY)]
    body_limit: usize,
    /// Send every request through this plain HTTP proxy.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Prefix of every object the runner creates.
    #[arg(long, default_value = "dialtone-")]
    prefix: String,
    /// Directory of scenario cases; default the bundled `cases/`.
    #[arg(long, value_name = "DIR")]
    cases_dir: Option<PathBuf>,
    /// Leave scenario cases out.
    #[arg(long)]
    no_cases: bool,
    /// Start the bundled emulator with this fault (repeatable; only without --target).
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the JSON report (docs/report-format.md).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Keep the requests and answers of passing tests in the reports too.
    #[arg(long)]
    keep_evidence: bool,
    /// Independent read tests in flight at once (default 8 against the bundled emulator,
    /// 1 against a device). Tests that write or need a device state always run one at a
    /// time.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Seed of the property tests' generated values; the report gives the seed used, and
    /// passing it again sends the same values.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Generated cases per property test.
    #[arg(long, value_name = "N", default_value_t = 16)]
    cases: u32,
    /// Seconds the property and stateful tests of one API may take in all; once spent,
    /// each stops generating cases after its first.
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    time_budget: f64,
    /// Show a progress bar on stderr (default when stderr is a terminal).
    #[arg(long)]
    progress: bool,
    /// Where failing property cases are stored, and replayed from first on later runs.
    #[arg(long, value_name = "DIR", default_value = ".dialtone/regressions")]
    regressions: PathBuf,
    /// Neither store failing property cases nor replay stored ones.
    #[arg(long)]
    no_regressions: bool,
    /// Compare every readable endpoint's normalised answer with the baseline in DIR
    /// (recorded by `dialtone snapshot record`); each drift is a failure with a diff.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
    #[command(flatten)]
    test: libtest_mimic::Arguments,
}

#[derive(clap::Args)]
#[command(
    override_usage = "dialtone fuzz --spec NAME [--target URL --profile FILE] --duration D [OPTIONS]",
    help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}"
)]
struct FuzzArgs {
    /// `mediant`, `sipxconfig`, `rome`, `roaming-profile`, `all`, or a path.
    #[arg(long)]
    spec: String,
    /// Base URL of the device to fuzz; overrides the profile's `url`. Without it, the
    /// bundled emulator is started on a loopback port and fuzzed over HTTP.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Target profile: TLS trust and one account per role (docs/target-profile.md).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// How long to fuzz: `30s`, `2m`, `1h`, `500ms` (a bare number is seconds).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = parse_duration)]
    duration: std::time::Duration,
    /// Seed of the mutations; the same seed against the same target sends the same
    /// requests.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Stop after N fuzzed requests.
    #[arg(long, value_name = "N")]
    max_requests: Option<u64>,
    /// Stop at the first finding.
    #[arg(long)]
    stop_at_first: bool,
    /// Directory the findings are saved in (case files and curl reproducers).
    #[arg(long, value_name = "DIR", default_value = "fuzz-findings")]
    findings: PathBuf,
    /// Start the bundled emulator with this fault (repeatable; only without --target).
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Accepted as `dialtone run` accepts it; against a device the fuzzer still sends only
    /// safe methods to read operations (docs/fuzz.md, Safety).
    #[arg(long = "allow", value_enum, value_name = "CLASS")]
    allow: Vec<AllowClass>,
    /// At most N requests per second.
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// Seconds to wait for each answer; no answer by then is a `hang` finding.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Largest response body read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_body: usize,
    /// Request body limit of the bundled emulator.
    #[arg(long, value_name = "BYTES", default_value_t = dialtone::contract::DEFAULT_MAX_BODY)]
    body_limit: usize,
    /// Send every request through this plain HTTP proxy.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Show a progress line on stderr (default when stderr is a terminal).
    #[arg(long)]
    progress: bool,
    /// Print only the findings and the last summary line.
    #[arg(short, long)]
    quiet: bool,
    /// Write the fuzz report as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// `30s`, `2m`, `1h`, `500ms`, or a bare number of seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (30s, 2m, 1h, 500ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("`{s}`: a duration must be positive"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AllowClass {
    Write,
    Disruptive,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Openapi,
}

/// `mi_option_purge_delay` in mimalloc 2's option enum (`mimalloc.h`); libmimalloc-sys
/// does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Give freed memory back to the OS after 1 s instead of 10 ms: a large upload frees and
    // reallocates its per-item scratch memory constantly, and re-faulting it cost more than
    // parsing (docs/performance.md).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("dialtone: error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.cmd {
        Cmd::Lint { paths, json } => lint(paths, json),
        Cmd::List { spec, json, counts } => list(&spec, json, counts),
        Cmd::Export { format, spec } => export(format, &spec),
        Cmd::Run(args) => run_suite(*args),
        Cmd::Snapshot(SnapshotCmd::Record { dir, run }) => {
            let mut a = *run;
            a.snapshots = Some(dir);
            a.no_cases = true;
            a.test.filter = Some("/snapshot/GET".into());
            a.test.exact = false;
            run_suite_with(a, true)
        }
        Cmd::Snapshot(SnapshotCmd::Review {
            dir,
            accept_all,
            reject_all,
        }) => review_snapshots(&dir, accept_all, reject_all),
        Cmd::Fuzz(args) => fuzz(*args),
        Cmd::Emulate {
            spec,
            listen,
            tls,
            faults,
            write_profile,
            list_faults,
        } => {
            if list_faults {
                return print_faults();
            }
            let spec = spec.expect("clap requires --spec without --list-faults");
            emulate(&spec, listen, tls, &faults, write_profile)
        }
    }
}

/// Expand lint arguments: a directory whose subdirectories are specs lints each of them.
fn lint_targets(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let paths = if paths.is_empty() {
        vec![spec::specs_dir()]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        let is_container = p.is_dir()
            && !std::fs::read_dir(&p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .any(|e| e.path().extension().is_some_and(|x| x == "toml"))
                })
                .unwrap_or(false);
        if is_container {
            let mut subs: Vec<PathBuf> = std::fs::read_dir(&p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            subs.sort();
            if subs.is_empty() {
                out.push(p);
            } else {
                out.extend(subs);
            }
        } else {
            out.push(p);
        }
    }
    out
}

fn lint(paths: Vec<PathBuf>, json: bool) -> Result<u8> {
    let mut total = 0usize;
    let mut clean = 0usize;
    let targets = lint_targets(paths);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for t in &targets {
        match dialtone::load(t) {
            Ok(s) => {
                clean += 1;
                if !json {
                    let p = plan::plan(&s);
                    writeln!(
                        out,
                        "{}: ok ({} endpoints, {} rules, {} plan entries)",
                        t.display(),
                        s.endpoints().count(),
                        s.rules().count(),
                        p.len()
                    )?;
                }
            }
            Err(diags) => {
                total += diags.len();
                for d in diags {
                    if json {
                        writeln!(out, "{}", serde_json::to_string(&d)?)?;
                    } else {
                        writeln!(out, "{d}")?;
                    }
                }
            }
        }
    }
    if !json {
        writeln!(
            out,
            "{} of {} specs clean, {} problems",
            clean,
            targets.len(),
            total
        )?;
    }
    Ok(if total == 0 && clean == targets.len() {
        EXIT_OK
    } else {
        EXIT_INPUT
    })
}

fn load_named(name: &str) -> Result<Vec<Spec>> {
    let names: Vec<String> = if name == "all" {
        spec::BUNDLED.iter().map(|s| s.to_string()).collect()
    } else {
        vec![name.to_string()]
    };
    let mut specs = Vec::new();
    for n in names {
        let path = spec::resolve(&n);
        if !path.exists() {
            bail!(
                "--spec {n}: no such spec (bundled: {}, all; or a path)",
                spec::BUNDLED.join(", ")
            );
        }
        match dialtone::load(&path) {
            Ok(s) => specs.push(s),
            Err(diags) => {
                for d in &diags {
                    eprintln!("{d}");
                }
                bail!(
                    "spec {} has {} problems; run `dialtone lint {}`",
                    path.display(),
                    diags.len(),
                    path.display()
                );
            }
        }
    }
    Ok(specs)
}

fn list(name: &str, json: bool, counts: bool) -> Result<u8> {
    let specs = load_named(name)?;
    let mut all = Vec::new();
    for s in &specs {
        all.extend(plan::plan(s));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &all).context("writing JSON")?;
        writeln!(out)?;
    } else if counts {
        for s in &specs {
            let p: Vec<_> = all.iter().filter(|e| e.api == s.name()).cloned().collect();
            let ops: usize = s.endpoints().map(|e| e.op.len()).sum();
            writeln!(
                out,
                "{}: {} endpoints, {} operations, {} explicit rules, {} codes, {} decisions, {} plan entries",
                s.name(),
                s.endpoints().count(),
                ops,
                s.rules().count(),
                s.codes().count(),
                s.decisions().count(),
                p.len()
            )?;
            for (k, n) in plan::counts(&p) {
                writeln!(out, "  {k:<13} {n}")?;
            }
        }
    } else {
        for e in &all {
            writeln!(
                out,
                "{:<12} {:<7} {:<6} {:<24} {}  [{}]",
                e.kind.as_str(),
                e.level_str(),
                e.method.as_deref().unwrap_or("-"),
                e.role.as_deref().unwrap_or("-"),
                e.id,
                e.expect
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            )?;
        }
        writeln!(out, "{} tests", all.len())?;
    }
    Ok(EXIT_OK)
}

fn export(format: ExportFormat, name: &str) -> Result<u8> {
    let specs = load_named(name)?;
    match format {
        ExportFormat::Openapi => {
            let refs: Vec<&Spec> = specs.iter().collect();
            let doc = dialtone::export::openapi::export(&refs);
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    Ok(EXIT_OK)
}

fn print_faults() -> Result<u8> {
    let mut out = std::io::stdout().lock();
    for (_, f) in dialtone::emulator::faults::CATALOGUE {
        writeln!(out, "{}", f.name)?;
        writeln!(out, "    {}", f.description)?;
        writeln!(out, "    breaks: {}", f.rule)?;
        let pats: Vec<String> = f
            .violates
            .iter()
            .map(|(a, p)| format!("{a}: {p}"))
            .collect();
        writeln!(out, "    failing tests: {}", pats.join("; "))?;
    }
    Ok(EXIT_OK)
}

fn emulate(
    name: &str,
    listen: std::net::SocketAddr,
    tls: bool,
    faults: &[String],
    write_profile: Option<PathBuf>,
) -> Result<u8> {
    use dialtone::emulator::{faults::Faults, server, Emulator};
    let faults = Faults::parse(faults).map_err(anyhow::Error::msg)?;
    let specs = load_named(name)?;
    let api_names: Vec<String> = specs.iter().map(|s| s.name().to_string()).collect();
    let emu = std::sync::Arc::new(Emulator::new(specs, faults)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let opts = server::ServerOptions {
            listen,
            tls,
            ..Default::default()
        };
        let running = server::serve(emu.clone().router(), opts).await?;
        println!("{}", running.url);
        std::io::stdout().flush()?;
        if let Some(path) = write_profile {
            let profile = dialtone::profile::Profile::for_emulator(
                &emu.accounts(),
                &emu.api_names(),
                &running.url,
                tls,
            );
            std::fs::write(&path, profile.to_toml())
                .with_context(|| format!("writing the profile to {}", path.display()))?;
            eprintln!("dialtone: wrote target profile {}", path.display());
        }
        eprintln!(
            "dialtone: emulating {} (faults: {}); Ctrl-C stops",
            api_names.join(", "),
            {
                let f: Vec<&str> = emu.faults().iter().map(|f| f.info().name).collect();
                if f.is_empty() {
                    "none".to_string()
                } else {
                    f.join(", ")
                }
            }
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        running.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(EXIT_OK)
}

fn run_suite(a: RunArgs) -> Result<u8> {
    run_suite_with(a, false)
}

/// Walk the pending snapshot changes under `dir`: print each diff, then accept (the new
/// answer becomes the baseline) or reject (the new answer is deleted).
fn review_snapshots(dir: &std::path::Path, accept_all: bool, reject_all: bool) -> Result<u8> {
    use dialtone::runner::snapshot;
    use std::io::BufRead;
    if !dir.is_dir() {
        bail!("{}: no such snapshot directory", dir.display());
    }
    let pending = snapshot::pending(dir)?;
    if pending.is_empty() {
        println!("no pending snapshot changes under {}", dir.display());
        return Ok(EXIT_OK);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    for (new, old) in pending {
        let now = snapshot::read(&new)?.unwrap_or_default();
        let before = snapshot::read(&old)?.unwrap_or_default();
        println!("== {}", old.display());
        print!("{}", snapshot::diff(&before, &now));
        let choice = if accept_all {
            "a".to_string()
        } else if reject_all {
            "r".to_string()
        } else {
            print!("accept (a), reject (r) or skip (s)? ");
            std::io::stdout().flush()?;
            lines.next().transpose()?.unwrap_or_default()
        };
        match choice.trim() {
            "a" | "accept" => {
                std::fs::rename(&new, &old)
                    .with_context(|| format!("moving {} to {}", new.display(), old.display()))?;
                accepted += 1;
            }
            "r" | "reject" => {
                std::fs::remove_file(&new)
                    .with_context(|| format!("removing {}", new.display()))?;
                rejected += 1;
            }
            _ => skipped += 1,
        }
    }
    println!("{accepted} accepted, {rejected} rejected, {skipped} left pending");
    Ok(EXIT_OK)
}

fn run_suite_with(a: RunArgs, record: bool) -> Result<u8> {
    use dialtone::emulator::faults::Faults;
    use dialtone::present::Run;
    use dialtone::runner::{cases, ClientOptions, Options, Suite};
    use std::sync::Arc;
    use std::time::Duration;

    if a.target.is_some() && !a.faults.is_empty() {
        bail!("--fault applies to the bundled emulator; it cannot be combined with --target");
    }
    if a.timeout <= 0.0 || a.test_budget <= 0.0 || a.time_budget.is_nan() || a.time_budget < 0.0 {
        bail!("--timeout and --test-budget must be positive, --time-budget not negative");
    }
    if a.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        bail!("--rate must be a positive number of requests per second");
    }
    let faults = Faults::parse(&a.faults).map_err(anyhow::Error::msg)?;
    let specs = load_named(&a.spec)?;
    let case_list = if a.no_cases {
        vec![]
    } else {
        let dir = a.cases_dir.clone().unwrap_or_else(cases::bundled_dir);
        if a.cases_dir.is_some() && !dir.is_dir() {
            bail!("{}: no such cases directory", dir.display());
        }
        cases::load_dir(&dir)?
    };
    // The bundled emulators run on their own workers; the runner drives its requests on
    // the calling thread (one test at a time), so its connections never hop threads.
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?,
    );
    let client_rt = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?,
    );
    let (local, profiles) = targets(
        &a.spec,
        a.profile.as_deref(),
        a.target.as_deref(),
        &specs,
        &rt,
        &faults,
        a.body_limit,
    )?;
    let opts = Options {
        strict: a.strict,
        allow_write: a.allow.contains(&AllowClass::Write)
            || a.allow.contains(&AllowClass::Disruptive),
        allow_disruptive: a.allow.contains(&AllowClass::Disruptive),
        client: ClientOptions {
            timeout: Duration::from_secs_f64(a.timeout),
            max_body: a.max_body,
            rate: a.rate,
            proxy: a.proxy.clone(),
        },
        body_limit: a.body_limit,
        prefix: a.prefix.clone(),
        test_budget: Duration::from_secs_f64(a.test_budget),
        keep_passing_evidence: a.keep_evidence,
        seed: a.seed.unwrap_or(Options::default().seed),
        cases: a.cases.max(1),
        time_budget: Duration::from_secs_f64(a.time_budget),
        regressions: (!a.no_regressions && !record).then(|| a.regressions.clone()),
        snapshots: a
            .snapshots
            .clone()
            .map(|dir| dialtone::runner::snapshot::Snapshots { dir, record }),
        ..Options::default()
    };
    if let Some(d) = &a.snapshots {
        if !record && !d.is_dir() {
            bail!(
                "{}: no such snapshot directory (record one with `dialtone snapshot record`)",
                d.display()
            );
        }
    }
    let mut suite = Suite::new(specs, case_list);
    if a.snapshots.is_some() {
        suite = suite.with_snapshots();
    }
    if !a.no_regressions && !record {
        let stored = dialtone::runner::regress::load(&a.regressions)?;
        suite = suite.with_regressions(&stored);
    }
    let emulated = a.target.is_none() && a.profile.is_none();
    let mut run = Run::per_api(client_rt, suite, profiles, opts)?;
    run.jobs = a.jobs.unwrap_or(if emulated { 8 } else { 1 }).max(1);
    use std::io::IsTerminal;
    let targs = a.test.clone();
    // The bar counts the tests as they run; libtest's lines follow when all have run.
    let progress_on = !targs.list && (a.progress || std::io::stderr().is_terminal());
    let total = run.pending(&targs) as u64;
    let progress = Arc::new(if progress_on && total > 0 {
        dialtone::report::terminal::Progress::new(total)
    } else {
        dialtone::report::terminal::Progress::hidden()
    });
    let bar = progress.clone();
    let on_result: Arc<dyn Fn(&dialtone::runner::TestResult) + Send + Sync> = Arc::new(move |r| {
        bar.tick(r);
        if bar.position() >= total {
            bar.finish();
        }
    });
    let (_conclusion, report) = run.execute(&targs, on_result);
    progress.finish();
    if a.test.list {
        return Ok(EXIT_OK);
    }
    if let Some(p) = &a.json {
        dialtone::report::json::write(&report, p)?;
    }
    if let Some(p) = &a.junit {
        dialtone::report::junit::write(&report, p)?;
    }
    if let Some(p) = &a.html {
        dialtone::report::html::write(&report, p)?;
    }
    if !a.test.quiet || report.exit_code() != 0 {
        let mut out = std::io::stdout().lock();
        dialtone::report::terminal::summary(&report, &mut out)?;
        out.flush()?;
    }
    for l in local {
        rt.block_on(l.running.shutdown());
    }
    Ok(report.exit_code())
}

/// The profile of each API's target: a device (`--profile`, `--target`), or one bundled
/// emulator per API started on `rt` (their paths may overlap, as real devices never share
/// a port).
#[allow(clippy::type_complexity)]
fn targets(
    spec_name: &str,
    profile: Option<&std::path::Path>,
    target: Option<&str>,
    specs: &[Spec],
    rt: &tokio::runtime::Runtime,
    faults: &dialtone::emulator::faults::Faults,
    body_limit: usize,
) -> Result<(
    Vec<dialtone::present::LocalEmulator>,
    Vec<(String, dialtone::profile::Profile)>,
)> {
    use dialtone::present;
    use dialtone::profile::Profile;
    let mut local = Vec::new();
    let mut profiles: Vec<(String, Profile)> = Vec::new();
    match (profile, target) {
        (Some(p), _) => {
            let mut profile = Profile::load(p)?;
            if let Some(url) = target {
                profile.target.url = url.to_string();
            }
            profiles = specs
                .iter()
                .map(|s| (s.name().to_string(), profile.clone()))
                .collect();
        }
        (None, Some(url)) => {
            let profile = Profile::parse(
                &format!("[target]\nurl = {}\n", toml::Value::String(url.to_string())),
                std::path::Path::new("<--target>"),
            )?;
            profiles = specs
                .iter()
                .map(|s| (s.name().to_string(), profile.clone()))
                .collect();
        }
        (None, None) => {
            for one in load_named(spec_name)? {
                let name = one.name().to_string();
                let l = present::start_emulator(rt, vec![one], faults.clone(), body_limit)?;
                profiles.push((name, l.profile.clone()));
                local.push(l);
            }
        }
    }
    Ok((local, profiles))
}

fn fuzz(a: FuzzArgs) -> Result<u8> {
    use dialtone::emulator::faults::Faults;
    use dialtone::netfuzz::{self, FuzzOptions, Fuzzer};
    use dialtone::runner::{ClientOptions, Options, Session};
    use indexmap::IndexMap;
    use std::io::IsTerminal;
    use std::sync::Arc;
    use std::time::Duration;

    if a.target.is_some() && !a.faults.is_empty() {
        bail!("--fault applies to the bundled emulator; it cannot be combined with --target");
    }
    if a.timeout <= 0.0 {
        bail!("--timeout must be positive");
    }
    if a.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        bail!("--rate must be a positive number of requests per second");
    }
    let faults = Faults::parse(&a.faults).map_err(anyhow::Error::msg)?;
    let specs = load_named(&a.spec)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (local, profiles) = targets(
        &a.spec,
        a.profile.as_deref(),
        a.target.as_deref(),
        &specs,
        &rt,
        &faults,
        a.body_limit,
    )?;
    let opts = Options {
        allow_write: a.allow.contains(&AllowClass::Write)
            || a.allow.contains(&AllowClass::Disruptive),
        allow_disruptive: a.allow.contains(&AllowClass::Disruptive),
        client: ClientOptions {
            timeout: Duration::from_secs_f64(a.timeout),
            max_body: a.max_body,
            rate: a.rate,
            proxy: a.proxy.clone(),
        },
        body_limit: a.body_limit,
        ..Options::default()
    };
    // One session per API (and so per bundled emulator); they share the rate cap only
    // when they share a target, as in `dialtone run`.
    let mut sessions = Vec::new();
    for spec in specs {
        let name = spec.name().to_string();
        let profile = profiles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p.clone())
            .context("no profile for an API")?;
        let mut map = IndexMap::new();
        map.insert(name, Arc::new(spec));
        sessions.push(Arc::new(Session::new(profile, &map, opts.clone())?));
    }
    let fopts = FuzzOptions {
        seed: a.seed.unwrap_or(FuzzOptions::default().seed),
        duration: Some(a.duration),
        max_requests: a.max_requests,
        stop_at_first: a.stop_at_first,
        ..FuzzOptions::default()
    };
    let fuzzer = Fuzzer::new(sessions, fopts)?;
    let ops: usize = fuzzer.operations().values().sum();
    let show = !a.quiet && (a.progress || std::io::stderr().is_terminal());
    let bar = if show {
        let b =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(st) = indicatif::ProgressStyle::with_template("{elapsed:>4} {spinner} {msg}") {
            b.set_style(st);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut last_draw = std::time::Instant::now();
    let mut on_progress = |p: &netfuzz::Progress| {
        if last_draw.elapsed() >= Duration::from_millis(100) {
            last_draw = std::time::Instant::now();
            let rps = p.requests as f64 / p.elapsed.as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} fuzzed, {} requests ({rps:.0}/s), {} findings",
                p.fuzzed, p.requests, p.findings
            ));
            bar.tick();
        }
    };
    let report = client_rt.block_on(fuzzer.run(&mut on_progress));
    bar.finish_and_clear();
    for l in local {
        rt.block_on(l.running.shutdown());
    }
    let saved = if report.findings.is_empty() {
        vec![]
    } else {
        netfuzz::save(&report, &a.findings)
            .with_context(|| format!("saving findings in {}", a.findings.display()))?
    };
    if let Some(p) = &a.json {
        let f = std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(f), &report)?;
    }
    let mut out = std::io::stdout().lock();
    for f in &report.findings {
        writeln!(
            out,
            "FINDING {} {} {} {}: {}",
            f.oracle.as_str(),
            f.api,
            f.method,
            f.endpoint,
            f.message
        )?;
        if !a.quiet {
            let muts: Vec<String> = f.mutations.iter().map(|m| m.to_string()).collect();
            writeln!(
                out,
                "    mutations ({} after minimizing; found with {}): {}",
                f.mutations.len(),
                f.found_with,
                muts.join("; ")
            )?;
            writeln!(out, "    found after {:.1} s", f.found_after_s)?;
            writeln!(out, "    {}", f.exchange.curl)?;
        }
    }
    if !a.quiet {
        writeln!(
            out,
            "operations fuzzed: {}",
            report
                .operations
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for (why, n) in &report.skipped {
            writeln!(out, "left out: {n} {why}")?;
        }
        writeln!(
            out,
            "answers: {}",
            report
                .answers
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    let per: Vec<String> = report
        .per_oracle()
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    writeln!(
        out,
        "fuzz: {} operations, {} fuzzed requests, {} requests in all in {:.1} s ({:.0} requests/s), seed {}; {} findings{}",
        ops,
        report.fuzzed,
        report.requests,
        report.duration_ms / 1000.0,
        report.requests_per_second(),
        report.seed,
        report.findings.len(),
        if per.is_empty() {
            String::new()
        } else {
            format!(" ({})", per.join(", "))
        }
    )?;
    if !saved.is_empty() {
        writeln!(
            out,
            "saved {} findings in {} (replay: dialtone run --spec {} --cases-dir {})",
            saved.len(),
            a.findings.display(),
            a.spec,
            a.findings.display()
        )?;
    }
    out.flush()?;
    Ok(report.exit_code())
}
