//! `dialtone coverage`: coverage by document section and digest number, from a run it
//! makes or from a JSON report.

use std::io::Write;

use anyhow::{bail, Context, Result};

use super::args::CoverageArgs;
use dialtone::exit;
use dialtone::runner::RunReport;

pub(crate) fn coverage(c: CoverageArgs) -> Result<u8> {
    let report: RunReport = match &c.from {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a dialtone JSON report", path.display()))?
        }
        None => {
            // The run's own lines would bury the listing: it runs silently.
            match super::run::run_report_as(&c.run, false, true)? {
                Some(r) => {
                    super::run::write_reports(&c.run, &r)?;
                    r
                }
                None => return Ok(exit::CLEAN),
            }
        }
    };
    let Some(mut cov) = report.coverage.clone() else {
        bail!("the report holds no coverage (written by a dialtone before coverage existed)");
    };
    let spec = &c.run.shared.spec;
    if spec != "all" {
        cov.apis
            .retain(|a| a.api == *spec || spec.ends_with(&a.api));
    }
    let mut out = std::io::stdout().lock();
    dialtone::report::coverage::text(&cov, c.all, &mut out)?;
    out.flush()?;
    let mut code = exit::CLEAN;
    for a in &cov.apis {
        let share = dialtone::report::coverage::tested_share(&a.counts);
        if c.fail_under.is_some_and(|min| share < min) {
            eprintln!(
                "{}: {share:.1}% of the explicit rules are tested, under --fail-under {}",
                a.api,
                c.fail_under.unwrap_or_default()
            );
            code = exit::FOUND;
        }
        let untraced = a
            .digest
            .iter()
            .filter(|d| d.status == dialtone::runner::coverage::Status::Untraced)
            .count();
        if untraced > 0 {
            eprintln!(
                "{}: {untraced} digest rule numbers are traced by no rule",
                a.api
            );
            code = exit::FOUND;
        }
    }
    Ok(code)
}
