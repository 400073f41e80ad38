//! `dialtone fuzz`: the network fuzzer against a target, one session per API, with its
//! findings saved as replayable cases and reported (`dialtone::report::fuzz`).

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result};
use indexmap::IndexMap;

use super::args::FuzzArgs;
use super::setup::Setup;
use dialtone::netfuzz::{self, FuzzOptions, Fuzzer};
use dialtone::profile::Profile;
use dialtone::report::fuzz::{self as report, FuzzProgress};
use dialtone::runner::{Options, Session};
use dialtone::spec::Spec;

pub(crate) fn fuzz(a: FuzzArgs) -> Result<u8> {
    let bad_times = (a.shared.timeout <= 0.0).then_some("--timeout must be positive");
    let (setup, ()) = a.shared.set_up(bad_times, || Ok(()))?;
    let Setup {
        specs,
        mut targets,
        options,
    } = setup;
    let sessions = sessions(specs, &targets.profiles, &options)?;
    let fopts = FuzzOptions {
        seed: a.shared.seed.unwrap_or(FuzzOptions::default().seed),
        duration: Some(a.duration),
        max_requests: a.max_requests,
        stop_at_first: a.stop_at_first,
        ..FuzzOptions::default()
    };
    let fuzzer = Fuzzer::new(sessions, fopts)?;
    let show = !a.quiet && (a.shared.progress || std::io::stderr().is_terminal());
    let mut bar = FuzzProgress::new(show);
    let fuzz_report = targets
        .client
        .block_on(fuzzer.run(&mut |p: &netfuzz::Progress| bar.update(p)));
    bar.finish();
    targets.shutdown();
    let saved = if fuzz_report.findings.is_empty() {
        vec![]
    } else {
        netfuzz::save(&fuzz_report, &a.findings)
            .with_context(|| format!("saving findings in {}", a.findings.display()))?
    };
    if let Some(p) = &a.shared.json {
        let f = std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
        report::write_json(&fuzz_report, std::io::BufWriter::new(f))?;
    }
    for left in &fuzz_report.left {
        eprintln!("warning: an object the fuzzer created could not be deleted: {left}");
    }
    let mut out = std::io::stdout().lock();
    report::summary(&fuzz_report, a.quiet, &mut out)?;
    report::saved(saved.len(), &a.findings, &a.shared.spec, &mut out)?;
    out.flush()?;
    Ok(fuzz_report.exit_code())
}

/// One session per API (and so per bundled emulator); they share the rate cap only when
/// they share a target, as in `dialtone run`.
fn sessions(
    specs: Vec<Spec>,
    profiles: &[(String, Profile)],
    opts: &Options,
) -> Result<Vec<Arc<Session>>> {
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
    Ok(sessions)
}
