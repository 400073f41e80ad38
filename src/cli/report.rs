//! `dialtone report merge`: the shards' JSON reports as one report, written in the formats
//! asked for, with the exit code the unsharded run would have had.

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
