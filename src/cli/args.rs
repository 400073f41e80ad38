//! The command line's shape: every command and flag, as clap reads them. `run` and `fuzz`
//! share their target flags ([`TargetArgs`], written once); each command lays them out in
//! `--help` among its own flags, in the order it always had.

use std::path::PathBuf;

use clap::builder::Arg;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "dialtone",
    version,
    about = "Conformance suite and fuzzer for telecom REST management APIs"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
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
        /// List only one shard's tests: `count:K/N` or `hash:K/N` (as `run --partition`).
        #[arg(long, value_name = "SCHEME:K/N", value_parser = parse_partition)]
        partition: Option<dialtone::plan::partition::Partition>,
        /// Apply a product overlay (repeatable) and mark the tests it changes, with the
        /// deviations that change them; the tests it takes away are listed at the end.
        #[arg(long = "overlay", value_name = "FILE")]
        overlays: Vec<PathBuf>,
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
        /// Behave as the product a product overlay describes, not as the document says
        /// (repeatable; docs/overlays.md).
        #[arg(long = "overlay", value_name = "FILE")]
        overlays: Vec<PathBuf>,
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
    /// Work with JSON reports of earlier runs.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Run the whole suite and write an evidence bundle a lab can hand over: the reports,
    /// a manifest (tool, specs with their hashes, decisions, mode, seed, times, target,
    /// profile without secrets), the baseline, SHA-256 of every file; DIR and DIR.tar.gz.
    /// `dialtone certify verify DIR` checks a bundle.
    ///
    /// Exit codes: those of `run`; `verify` exits 0 when the bundle verifies, 2 otherwise.
    #[command(
        override_usage = "dialtone certify --spec NAME [--target URL --profile FILE] --out DIR [OPTIONS]\n       dialtone certify verify DIR"
    )]
    Certify(Box<RunArgs>),
    /// Coverage by document: each section of the source document with its rules, each
    /// tested, untestable (with why) or skipped by this run (with why), and each rule number
    /// of the API's digest with the rules that trace it. Runs the suite (as `run` does)
    /// unless `--from` gives a JSON report.
    ///
    /// Exit codes: 0; 1 when `--fail-under` is not met or a digest number is untraced;
    /// 2 on setup errors.
    #[command(
        override_usage = "dialtone coverage --spec NAME [--from REPORT.json] [--all] [--fail-under PCT] [run options]"
    )]
    Coverage(Box<CoverageArgs>),
    /// Known failures: draft a baseline for `run --baseline`.
    #[command(subcommand)]
    Baseline(BaselineCmd),
    /// Write a spec in another format to stdout.
    Export {
        #[arg(value_enum)]
        format: ExportFormat,
        #[arg(long)]
        spec: String,
    },
}

/// `dialtone certify verify DIR`, read apart from `certify` (whose run flags it has none
/// of) before the main parser sees the arguments.
#[derive(Parser)]
#[command(
    name = "dialtone certify verify",
    about = "Check an evidence bundle: every file's SHA-256, nothing added or missing, and the spec files it names still hashing the same (exit 0 verifies, 2 does not)"
)]
pub(crate) struct VerifyCli {
    /// The bundle directory.
    pub(crate) dir: PathBuf,
}

#[derive(Subcommand)]
pub(crate) enum BaselineCmd {
    /// Draft a baseline from a run's JSON report: one `[[known]]` entry per failure and
    /// error, each waiting for its reason. Review it before use.
    Write {
        /// The run's JSON report (`run --json`).
        #[arg(long, value_name = "REPORT")]
        from: PathBuf,
        /// Write the draft here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReportCmd {
    /// Merge the JSON reports of the shards of one run (`run --partition`) into one
    /// report, with the counts, verdicts and exit code of the unsharded run. Refuses
    /// reports of different specs, seeds, modes or tool versions.
    ///
    /// Exit codes: 0 conformant, 1 non-conformance found, 2 errors only, or reports that
    /// cannot be merged.
    Merge {
        /// The shards' JSON reports (`run --json`).
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<PathBuf>,
        /// Write the merged JSON report.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the merged JUnit XML report.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the merged HTML report.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Print only the summary line.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum SnapshotCmd {
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

/// The flags `run` and `fuzz` share: which spec, which target and how to reach it, and
/// where the JSON report goes. The help text is `run`'s; `fuzz` words some of it for
/// fuzzing ([`worded_for_fuzz`]).
#[derive(clap::Args)]
pub(super) struct TargetArgs {
    /// `mediant`, `sipxconfig`, `rome`, `roaming-profile`, `all`, or a path.
    #[arg(long)]
    pub(super) spec: String,
    /// A product overlay (repeatable): test the product as it knowingly differs from its
    /// document. Every test it changes is reported as a deviation (docs/overlays.md).
    #[arg(long = "overlay", value_name = "FILE")]
    pub(super) overlays: Vec<PathBuf>,
    /// The bundled emulator behaves as the product this overlay describes (repeatable).
    #[arg(long = "emulator-overlay", value_name = "FILE")]
    pub(super) emulator_overlays: Vec<PathBuf>,
    /// Base URL of the device to test; overrides the profile's `url`. Without it, the
    /// bundled emulator is started on a loopback port and tested over HTTP.
    #[arg(long, value_name = "URL")]
    pub(super) target: Option<String>,
    /// Target profile: TLS trust and one account per role (docs/target-profile.md).
    #[arg(long, value_name = "FILE")]
    pub(super) profile: Option<PathBuf>,
    /// Allow `write` or `disruptive` tests against a device (repeatable). Against the
    /// emulator everything runs.
    #[arg(long = "allow", value_enum, value_name = "CLASS")]
    pub(super) allow: Vec<AllowClass>,
    /// At most N requests per second.
    #[arg(long, value_name = "N")]
    pub(super) rate: Option<f64>,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(super) timeout: f64,
    /// Largest response body read, in bytes; a bigger one is an error verdict.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub(super) max_body: usize,
    /// Request body size the target must refuse above (the oversize probe sends one byte
    /// more); also the limit of the bundled emulator.
    #[arg(long, value_name = "BYTES", default_value_t = dialtone::contract::DEFAULT_MAX_BODY)]
    pub(super) body_limit: usize,
    /// Send every request through this plain HTTP proxy.
    #[arg(long, value_name = "URL")]
    pub(super) proxy: Option<String>,
    /// Start the bundled emulator with this fault (repeatable; only without --target).
    #[arg(long = "fault", value_name = "NAME")]
    pub(super) faults: Vec<String>,
    /// Write the JSON report (docs/report-format.md).
    #[arg(long, value_name = "FILE")]
    pub(super) json: Option<PathBuf>,
    /// Seed of the property tests' generated values; the report gives the seed used, and
    /// passing it again sends the same values.
    #[arg(long, value_name = "N")]
    pub(super) seed: Option<u64>,
    /// Show a progress bar on stderr (default when stderr is a terminal).
    #[arg(long)]
    pub(super) progress: bool,
}

/// The order of `run`'s flags in `--help` (libtest's follow).
const RUN_ORDER: [&str; 32] = [
    "spec",
    "target",
    "profile",
    "strict",
    "allow",
    "rate",
    "timeout",
    "test_budget",
    "max_body",
    "body_limit",
    "proxy",
    "prefix",
    "cases_dir",
    "no_cases",
    "faults",
    "junit",
    "json",
    "html",
    "keep_evidence",
    "jobs",
    "seed",
    "cases",
    "time_budget",
    "progress",
    "baseline",
    "stop_after_errors",
    "targets",
    "out",
    "partition",
    "regressions",
    "no_regressions",
    "snapshots",
];

#[derive(clap::Args)]
pub(crate) struct CoverageArgs {
    /// Read the coverage from this JSON report (`run --json`) instead of running.
    #[arg(long, value_name = "REPORT")]
    pub(crate) from: Option<std::path::PathBuf>,
    /// List every rule and digest number, not only those that are not tested.
    #[arg(long)]
    pub(crate) all: bool,
    /// Exit 1 when less than this share (percent) of an API's explicit rules is tested.
    #[arg(long, value_name = "PCT")]
    pub(crate) fail_under: Option<f64>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

#[derive(clap::Args)]
#[command(
    override_usage = "dialtone run --spec NAME [--target URL --profile FILE] [OPTIONS] [FILTER]",
    help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}",
    mut_args(help_order(&RUN_ORDER))
)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(super) shared: TargetArgs,
    /// Also enforce should-level rules and the preferred outcome of every cell.
    #[arg(long)]
    pub(super) strict: bool,
    /// Seconds one test may take in all.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub(super) test_budget: f64,
    /// Prefix of every object the runner creates.
    #[arg(long, default_value = "dialtone-")]
    pub(super) prefix: String,
    /// Directory of scenario cases; default the bundled `cases/`.
    #[arg(long, value_name = "DIR")]
    pub(super) cases_dir: Option<PathBuf>,
    /// Leave scenario cases out.
    #[arg(long)]
    pub(super) no_cases: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub(super) junit: Option<PathBuf>,
    /// Write an HTML report.
    #[arg(long, value_name = "FILE")]
    pub(super) html: Option<PathBuf>,
    /// Keep the requests and answers of passing tests in the reports too.
    #[arg(long)]
    pub(super) keep_evidence: bool,
    /// Independent read tests in flight at once (default 8 against the bundled emulator,
    /// 1 against a device). Tests that write or need a device state always run one at a
    /// time.
    #[arg(long, value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// Generated cases per property test.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(super) cases: u32,
    /// Seconds the property and stateful tests of one API may take in all; once spent,
    /// each stops generating cases after its first.
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub(super) time_budget: f64,
    /// Known failures (docs/runner.md): test ids or globs with a reason and an optional
    /// expiry. A run that fails only on them exits 0 and lists them as known; a baselined
    /// test that passes is reported as fixed.
    #[arg(long, value_name = "FILE")]
    pub(super) baseline: Option<PathBuf>,
    /// Take a target for gone after N requests in a row get no answer: its remaining tests
    /// are error verdicts, sent no request (0: never).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(super) stop_after_errors: u64,
    /// Test a fleet: every device of FILE (`[[device]]` entries, each a `name` and a
    /// `profile`) at once in this process, each with its own rate limit, reports and exit
    /// status (docs/ci.md).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "profile", "faults", "partition"])]
    pub(super) targets: Option<PathBuf>,
    /// Where the reports go: with --targets, each device's `<name>.json`, `.junit.xml`
    /// and `.html` (default `dialtone-fleet`); for `certify`, the evidence bundle.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Run one shard of the suite: `count:K/N` deals groups round-robin, `hash:K/N` by a
    /// stable hash of each group. Writes to one collection stay in one shard; merge the
    /// shards' JSON reports with `dialtone report merge`.
    #[arg(long, value_name = "SCHEME:K/N", value_parser = parse_partition)]
    pub(super) partition: Option<dialtone::plan::partition::Partition>,
    /// Where failing property cases are stored, and replayed from first on later runs.
    #[arg(long, value_name = "DIR", default_value = ".dialtone/regressions")]
    pub(super) regressions: PathBuf,
    /// Neither store failing property cases nor replay stored ones.
    #[arg(long)]
    pub(super) no_regressions: bool,
    /// Compare every readable endpoint's normalised answer with the baseline in DIR
    /// (recorded by `dialtone snapshot record`); each drift is a failure with a diff.
    #[arg(long, value_name = "DIR")]
    pub(super) snapshots: Option<PathBuf>,
    #[command(flatten)]
    pub(super) test: libtest_mimic::Arguments,
}

/// The order of `fuzz`'s flags in `--help`.
const FUZZ_ORDER: [&str; 18] = [
    "spec",
    "target",
    "profile",
    "duration",
    "seed",
    "max_requests",
    "stop_at_first",
    "findings",
    "faults",
    "allow",
    "rate",
    "timeout",
    "max_body",
    "body_limit",
    "proxy",
    "progress",
    "quiet",
    "json",
];

#[derive(clap::Args)]
#[command(
    override_usage = "dialtone fuzz --spec NAME [--target URL --profile FILE] --duration D [OPTIONS]",
    help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}",
    mut_args(help_order(&FUZZ_ORDER)),
    mut_args(worded_for_fuzz)
)]
pub(crate) struct FuzzArgs {
    #[command(flatten)]
    pub(super) shared: TargetArgs,
    /// How long to fuzz: `30s`, `2m`, `1h`, `500ms` (a bare number is seconds).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = parse_duration)]
    pub(super) duration: std::time::Duration,
    /// Stop after N fuzzed requests.
    #[arg(long, value_name = "N")]
    pub(super) max_requests: Option<u64>,
    /// Stop at the first finding.
    #[arg(long)]
    pub(super) stop_at_first: bool,
    /// Directory the findings are saved in (case files and curl reproducers).
    #[arg(long, value_name = "DIR", default_value = ".dialtone/findings")]
    pub(super) findings: PathBuf,
    /// Print only the findings and the last summary line.
    #[arg(short, long)]
    pub(super) quiet: bool,
}

/// `fuzz`'s help for the shared flags whose `run` wording does not fit fuzzing.
fn worded_for_fuzz(a: Arg) -> Arg {
    let help = match a.get_id().as_str() {
        "target" => "Base URL of the device to fuzz; overrides the profile's `url`. Without it, the bundled emulator is started on a loopback port and fuzzed over HTTP",
        "seed" => "Seed of the mutations; the same seed against the same target sends the same requests",
        "allow" => "Against a device, `write` adds creates, updates and deletes of objects the fuzzer creates itself (prefixed, deleted afterwards); without it only safe methods to read operations are sent (docs/fuzz.md, Safety)",
        "timeout" => "Seconds to wait for each answer; no answer by then is a `hang` finding",
        "max_body" => "Largest response body read, in bytes",
        "body_limit" => "Request body limit of the bundled emulator",
        "progress" => "Show a progress line on stderr (default when stderr is a terminal)",
        "json" => "Write the fuzz report as JSON",
        _ => return a,
    };
    a.help(help)
}

/// A `mut_args` hook that lays out the flags named in `order` in that order in `--help`
/// (a flattened group of flags would otherwise show as one block). They take the places
/// from the first of them on; flags added before or after them (`snapshot record`'s
/// `--dir`, libtest's options) keep theirs. clap hands over the flags in the order they
/// were added, and `order`'s flags were added together, so the first one seen marks the
/// start.
fn help_order(order: &'static [&'static str]) -> impl FnMut(Arg) -> Arg {
    let mut start = None;
    move |a| match order.iter().position(|n| a.get_id() == *n) {
        Some(i) => {
            let first = *start.get_or_insert(a.get_display_order());
            a.display_order(first + i)
        }
        None => a,
    }
}

/// `count:K/N` or `hash:K/N`.
fn parse_partition(s: &str) -> Result<dialtone::plan::partition::Partition, String> {
    s.parse()
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
pub(super) enum AllowClass {
    Write,
    Disruptive,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    Openapi,
}
