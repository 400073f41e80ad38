//! `dialtone report merge`: the shards' JSON reports as one report, written in the formats
//! asked for, with the exit code the unsharded run would have had; and `dialtone baseline
//! write`, a draft baseline from a report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use dialtone::report;

pub(crate) fn merge(
    paths: &[PathBuf],
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    html: Option<PathBuf>,
    quiet: bool,
) -> Result<u8> {
    let mut reports = Vec::new();
    for p in paths {
        reports.push((p.clone(), report::merge::read(p)?));
    }
    let merged = report::merge::merge(reports)?;
    if let Some(p) = &json {
        report::json::write(&merged, p)?;
    }
    if let Some(p) = &junit {
        report::junit::write(&merged, p)?;
    }
    if let Some(p) = &html {
        report::html::write(&merged, p)?;
    }
    let mut out = std::io::stdout().lock();
    if quiet {
        let t = merged.totals();
        writeln!(
            out,
            "merged {} reports: {} pass, {} fail, {} error, {} skip (exit {})",
            paths.len(),
            t.pass,
            t.fail,
            t.error,
            t.skip,
            merged.exit_code()
        )?;
    } else {
        report::terminal::summary(&merged, &mut out)?;
    }
    out.flush()?;
    Ok(merged.exit_code())
}

/// `dialtone baseline write --from REPORT [--out FILE]`.
pub(crate) fn draft_baseline(from: &std::path::Path, out: Option<PathBuf>) -> Result<u8> {
    let r = report::merge::read(from)?;
    let text = dialtone::runner::baseline::draft(&r);
    match out {
        Some(p) => std::fs::write(&p, text)
            .map_err(|e| anyhow::anyhow!("{}: cannot write the baseline: {e}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(dialtone::exit::CLEAN)
}
