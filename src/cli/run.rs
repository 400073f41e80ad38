//! `dialtone run` (and `snapshot record`, a run that records): the conformance suite
//! against a target, presented as libtest does, with the reports the flags ask for.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};

use super::args::RunArgs;
use super::setup::Setup;
use dialtone::exit;
use dialtone::harness::Run;
use dialtone::report::terminal::Progress;
use dialtone::runner::{cases, Options, RunReport, Suite, TestResult};

/// What sees each test's result as it is made.
type OnResult = Arc<dyn Fn(&TestResult) + Send + Sync>;

/// Run the suite; `record` writes the snapshots instead of comparing with them.
pub(crate) fn run(a: RunArgs, record: bool) -> Result<u8> {
    if let Some(file) = a.targets.clone() {
        return super::fleet::fleet(&a, &file);
    }
    let Some(report) = run_report(&a, record)? else {
        return Ok(exit::CLEAN);
    };
    write_reports(&a, &report)?;
    if !a.test.quiet || report.exit_code() != exit::CLEAN {
        let mut out = std::io::stdout().lock();
        dialtone::report::terminal::summary(&report, &mut out)?;
        out.flush()?;
    }
    Ok(report.exit_code())
}

/// The run `a` asks for, as a report (`None` for `--list`), with libtest's lines printed
/// as the tests run.
pub(super) fn run_report(a: &RunArgs, record: bool) -> Result<Option<RunReport>> {
    run_report_as(a, record, false)
}

/// [`run_report`]; `silent` prints nothing while the tests run (no libtest lines, no
/// progress bar) and ignores the libtest options.
pub(super) fn run_report_as(a: &RunArgs, record: bool, silent: bool) -> Result<Option<RunReport>> {
    let bad_times = (a.shared.timeout <= 0.0
        || a.test_budget <= 0.0
        || a.time_budget.is_nan()
        || a.time_budget < 0.0)
        .then_some("--timeout and --test-budget must be positive, --time-budget not negative");
    let (setup, (case_list, baseline)) = a.shared.set_up(bad_times, || {
        let baseline = a
            .baseline
            .as_deref()
            .map(dialtone::runner::baseline::Baseline::load)
            .transpose()?;
        Ok((scenario_cases(a)?, baseline))
    })?;
    let Setup {
        specs,
        mut targets,
        options,
    } = setup;
    let mut opts = run_options(a, options, record);
    opts.stop = Some(on_interrupt());
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
    if let Some(p) = &a.partition {
        suite.partition(p);
    }
    let emulated = a.shared.target.is_none() && a.shared.profile.is_none();
    let mut run = Run::per_api(
        targets.client.clone(),
        suite,
        targets.profiles.clone(),
        opts,
    )?;
    run.jobs = a.jobs.unwrap_or(if emulated { 8 } else { 1 }).max(1);
    if !emulated {
        for s in run.sessions.values() {
            if let Err(why) = targets.client.block_on(s.tls_check()) {
                bail!("{why}");
            }
        }
    }
    let targs = a.test.clone();
    if silent {
        let mut report = run.collect();
        report.info.partition = a.partition.map(|p| p.to_string());
        if let Some(b) = &baseline {
            b.apply(&mut report, &dialtone::runner::baseline::today());
        }
        targets.shutdown();
        return Ok(Some(report));
    }
    let (progress, on_result) = progress(&run, &targs, a.shared.progress);
    let (_conclusion, mut report) = run.execute(&targs, on_result);
    report.info.partition = a.partition.map(|p| p.to_string());
    if let Some(b) = &baseline {
        b.apply(&mut report, &dialtone::runner::baseline::today());
    }
    progress.finish();
    targets.shutdown();
    Ok((!a.test.list).then_some(report))
}

/// A flag set by the first Ctrl-C: the test in flight finishes and cleans up, the others
/// are not started, and the summary and reports are written with what ran. A second
/// Ctrl-C quits at once.
pub(super) fn on_interrupt() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                set.store(true, Ordering::SeqCst);
                eprintln!(
                    "\ndialtone: interrupted: finishing the test in flight and its clean-up, then writing the reports (Ctrl-C again quits at once)"
                );
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    });
    flag
}

/// The runner options of `run`'s own flags, over those the shared flags decided.
pub(super) fn run_options(a: &RunArgs, options: Options, record: bool) -> Options {
    Options {
        strict: a.strict,
        prefix: a.prefix.clone(),
        test_budget: Duration::from_secs_f64(a.test_budget),
        keep_passing_evidence: a.keep_evidence,
        seed: a.shared.seed.unwrap_or(Options::default().seed),
        cases: a.cases.max(1),
        time_budget: Duration::from_secs_f64(a.time_budget),
        regressions: (!a.no_regressions && !record).then(|| a.regressions.clone()),
        snapshots: a
            .snapshots
            .clone()
            .map(|dir| dialtone::runner::snapshot::Snapshots { dir, record }),
        stop_after_errors: a.stop_after_errors,
        ..options
    }
}

/// The scenario cases to run: none with `--no-cases`, else those of `--cases-dir` or the
/// bundled ones.
pub(super) fn scenario_cases(a: &RunArgs) -> Result<Vec<cases::Case>> {
    if a.no_cases {
        return Ok(vec![]);
    }
    let dir = a.cases_dir.clone().unwrap_or_else(cases::bundled_dir);
    if a.cases_dir.is_some() && !dir.is_dir() {
        bail!("{}: no such cases directory", dir.display());
    }
    Ok(cases::load_dir(&dir)?)
}

/// A progress bar counting the tests as they run (libtest's lines follow when all have
/// run), shown with `--progress` or when stderr is a terminal, and the callback feeding it.
fn progress(run: &Run, targs: &libtest_mimic::Arguments, asked: bool) -> (Arc<Progress>, OnResult) {
    let progress_on = !targs.list && (asked || std::io::stderr().is_terminal());
    let total = run.pending(targs) as u64;
    let progress = Arc::new(if progress_on && total > 0 {
        Progress::new(total)
    } else {
        Progress::hidden()
    });
    let bar = progress.clone();
    let on_result: OnResult = Arc::new(move |r| {
        bar.tick(r);
        if bar.position() >= total {
            bar.finish();
        }
    });
    (progress, on_result)
}

/// The report files the flags ask for: JSON, JUnit, HTML.
pub(super) fn write_reports(a: &RunArgs, report: &RunReport) -> Result<()> {
    if let Some(p) = &a.shared.json {
        dialtone::report::json::write(report, p)?;
    }
    if let Some(p) = &a.junit {
        dialtone::report::junit::write(report, p)?;
    }
    if let Some(p) = &a.html {
        dialtone::report::html::write(report, p)?;
    }
    Ok(())
}
