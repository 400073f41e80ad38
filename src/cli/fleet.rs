//! `dialtone run --targets FILE`: the suite against a fleet of devices at once, in this
//! process. Each device has its own thread, client, rate limit, reports and exit status; a
//! slow or dead device holds up no other (it is taken for gone after `--stop-after-errors`
//! requests in a row get no answer). The fleet's table comes first, then each device that
//! did not pass, as `run` prints it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::args::RunArgs;
use dialtone::exit;
use dialtone::harness::Run;
use dialtone::profile::Profile;
use dialtone::report;
use dialtone::runner::{RunReport, Suite};

/// The fleet file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    device: Vec<Device>,
}

/// One `[[device]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    /// Names the device's reports; letters, digits, `-`, `_` and `.`.
    name: String,
    /// The device's target profile, relative to the fleet file.
    profile: PathBuf,
    /// Overrides the profile's `url`.
    #[serde(default)]
    url: Option<String>,
}

/// What became of one device.
struct Outcome {
    name: String,
    target: String,
    report: Result<RunReport, String>,
}

fn read_fleet(file: &Path) -> Result<Vec<Device>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read the fleet file", file.display()))?;
    let fleet: FleetFile = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                format!(":{line}")
            })
            .unwrap_or_default();
        anyhow::anyhow!("{}{at}: {}", file.display(), e.message())
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for d in &fleet.device {
        let ok = !d.name.is_empty()
            && d.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            bail!(
                "{}: device name `{}` must be letters, digits, `-`, `_` or `.` (it names the report files)",
                file.display(),
                d.name
            );
        }
        if !seen.insert(d.name.clone()) {
            bail!("{}: two devices are named `{}`", file.display(), d.name);
        }
    }
    if fleet.device.is_empty() {
        bail!("{}: the fleet names no [[device]]", file.display());
    }
    Ok(fleet.device)
}

pub(crate) fn fleet(a: &RunArgs, file: &Path) -> Result<u8> {
    if a.shared.timeout <= 0.0 || a.test_budget <= 0.0 {
        bail!("--timeout and --test-budget must be positive");
    }
    let devices = read_fleet(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    // Every device's profile is checked before any device is sent a request.
    let specs = super::load_named_with(&a.shared.spec, &a.shared.overlays)?;
    let mut profiles = Vec::new();
    for d in &devices {
        let path = base.join(&d.profile);
        let mut p = Profile::load(&path)?;
        p.check_against(&specs.iter().collect::<Vec<_>>())?;
        if let Some(url) = &d.url {
            if let Err(why) = dialtone::profile::check_url(url) {
                bail!("{}: device `{}`: the URL {why}", file.display(), d.name);
            }
            p.target.url = url.clone();
        }
        profiles.push(p);
    }
    drop(specs);
    let cases = super::run::scenario_cases(a)?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("dialtone-fleet"));
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("{}: cannot create the report directory", out_dir.display()))?;
    let mut opts = super::run::run_options(a, a.shared.options(), false);
    opts.stop = Some(super::run::on_interrupt());
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter()
            .zip(profiles)
            .map(|(d, profile)| {
                let (opts, cases) = (opts.clone(), cases.clone());
                scope.spawn(move || {
                    let target = profile.target.url.clone();
                    let report = one_device(a, profile, opts, cases).map_err(|e| format!("{e:#}"));
                    Outcome {
                        name: d.name.clone(),
                        target,
                        report,
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a device thread panicked"))
            .collect()
    });
    for o in &outcomes {
        if let Ok(r) = &o.report {
            let p = |ext: &str| out_dir.join(format!("{}.{ext}", o.name));
            report::json::write(r, &p("json"))?;
            report::junit::write(r, &p("junit.xml"))?;
            report::html::write(r, &p("html"))?;
        }
    }
    print_fleet(a, &out_dir, &outcomes)
}

/// The whole suite against one device, on this thread's own runtime.
fn one_device(
    a: &RunArgs,
    profile: Profile,
    opts: dialtone::runner::Options,
    cases: Vec<dialtone::runner::cases::Case>,
) -> Result<RunReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let specs = super::load_named_with(&a.shared.spec, &a.shared.overlays)?;
    let mut suite = Suite::new(specs, cases);
    if !a.no_regressions {
        let stored = dialtone::runner::regress::load(&a.regressions)?;
        suite = suite.with_regressions(&stored);
    }
    let mut run = Run::new(Arc::new(rt), suite, profile, opts)?;
    run.jobs = a.jobs.unwrap_or(1).max(1);
    Ok(run.collect())
}

/// The fleet's table, then each device that did not pass; the fleet's exit code is the
/// worst device's (a non-conformance over an error).
fn print_fleet(a: &RunArgs, out_dir: &Path, outcomes: &[Outcome]) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<36} {:>6} {:>6} {:>6} {:>6} {:>5}  verdict",
        "DEVICE", "TARGET", "PASS", "FAIL", "ERROR", "SKIP", "EXIT"
    )?;
    let mut worst = exit::CLEAN;
    for o in outcomes {
        let (line, code) = match &o.report {
            Ok(r) => {
                let t = r.totals();
                let code = r.exit_code();
                let verdict = match code {
                    exit::CLEAN => "conformant",
                    exit::FOUND => "NON-CONFORMANT",
                    _ => "ERROR (no verdict on some tests)",
                };
                (
                    format!(
                        "{:<20} {:<36} {:>6} {:>6} {:>6} {:>6} {:>5}  {verdict}",
                        o.name, o.target, t.pass, t.fail, t.error, t.skip, code
                    ),
                    code,
                )
            }
            Err(e) => (
                format!(
                    "{:<20} {:<36} {:>6} {:>6} {:>6} {:>6} {:>5}  ERROR: {e}",
                    o.name,
                    o.target,
                    "-",
                    "-",
                    "-",
                    "-",
                    exit::ERROR
                ),
                exit::ERROR,
            ),
        };
        writeln!(out, "{line}")?;
        worst = match (worst, code) {
            (exit::FOUND, _) | (_, exit::FOUND) => exit::FOUND,
            (exit::ERROR, _) | (_, exit::ERROR) => exit::ERROR,
            _ => exit::CLEAN,
        };
    }
    writeln!(
        out,
        "reports: {}/<device>.json, .junit.xml, .html",
        out_dir.display()
    )?;
    if !a.test.quiet {
        for o in outcomes {
            if let Ok(r) = &o.report {
                if r.exit_code() != exit::CLEAN {
                    writeln!(out, "\n== {} ({})", o.name, o.target)?;
                    report::terminal::summary(r, &mut out)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(worst)
}
