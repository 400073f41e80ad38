//! `dialtone snapshot`: record a target's answers as a baseline (a run that records), or
//! review the pending changes to one.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::args::RunArgs;
use dialtone::exit;
use dialtone::runner::snapshot;

/// Record every readable endpoint's normalised answer into `dir`: the run's snapshot tests
/// alone, in recording mode.
pub(crate) fn record(dir: PathBuf, mut a: RunArgs) -> Result<u8> {
    a.snapshots = Some(dir);
    a.no_cases = true;
    a.test.filter = Some("/snapshot/GET".into());
    a.test.exact = false;
    super::run::run(a, true)
}

/// Walk the pending snapshot changes under `dir`: print each diff, then accept (the new
/// answer becomes the baseline) or reject (the new answer is deleted).
pub(crate) fn review(dir: &Path, accept_all: bool, reject_all: bool) -> Result<u8> {
    if !dir.is_dir() {
        bail!("{}: no such snapshot directory", dir.display());
    }
    let pending = snapshot::pending(dir)?;
    if pending.is_empty() {
        println!("no pending snapshot changes under {}", dir.display());
        return Ok(exit::CLEAN);
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
    Ok(exit::CLEAN)
}
