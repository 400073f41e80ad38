//! Coverage by document as text: per API, its counts, each section with the rules that
//! are not tested and why (every rule with `all`), and the digest numbers.

use std::io::{self, Write};

use crate::runner::coverage::{ApiCoverage, Counts, Coverage, Item, Status};
use crate::runner::Verdict;

/// The share of an API's explicit rules that were tested, in percent.
pub fn tested_share(c: &Counts) -> f64 {
    if c.rules == 0 {
        return 100.0;
    }
    100.0 * c.tested as f64 / c.rules as f64
}

/// One line of counts.
pub fn counts_line(c: &Counts) -> String {
    let mut parts = vec![format!("{} tested ({:.1}%)", c.tested, tested_share(c))];
    for (n, what) in [
        (c.untestable, "untestable"),
        (c.gap, "emulator gap"),
        (c.skipped, "skipped"),
        (c.not_run, "not run"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{} explicit rules: {}", c.rules, parts.join(", "))
}

pub fn text(cov: &Coverage, all: bool, out: &mut dyn Write) -> io::Result<()> {
    for a in &cov.apis {
        api(a, all, out)?;
    }
    Ok(())
}

fn mark(i: &Item) -> String {
    match (i.status, i.verdict) {
        (Status::Tested, Some(Verdict::Pass)) | (Status::Tested, None) => "tested".into(),
        (Status::Tested, Some(v)) => format!("tested ({})", v.as_str()),
        (s, _) => s.as_str().into(),
    }
}

fn api(a: &ApiCoverage, all: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}: {}", a.api, counts_line(&a.counts))?;
    for s in &a.sections {
        let tested = s
            .rules
            .iter()
            .filter(|r| r.status == Status::Tested)
            .count();
        writeln!(out, "  {}: {tested} of {} tested", s.section, s.rules.len())?;
        for r in &s.rules {
            let show = all || r.status != Status::Tested || r.verdict != Some(Verdict::Pass);
            if !show {
                continue;
            }
            match &r.why {
                Some(why) => writeln!(out, "    {:<14} {}  ({why})", mark(r), r.id)?,
                None => writeln!(out, "    {:<14} {}", mark(r), r.id)?,
            }
        }
    }
    if !a.digest.is_empty() {
        let (first, last) = (&a.digest[0].id, &a.digest[a.digest.len() - 1].id);
        let by = |st: Status| a.digest.iter().filter(|d| d.status == st).count();
        writeln!(
            out,
            "  digest {first} to {last}: {} traced to a tested rule, {} untestable, {} emulator gap, {} skipped, {} not run, {} untraced",
            by(Status::Tested),
            by(Status::Untestable),
            by(Status::Gap),
            by(Status::Skipped),
            by(Status::NotRun),
            by(Status::Untraced)
        )?;
        for d in &a.digest {
            if all || d.status != Status::Tested {
                writeln!(
                    out,
                    "    {:<14} {}  <- {}",
                    d.status.as_str(),
                    d.id,
                    d.by.join(", ")
                )?;
            }
        }
    }
    Ok(())
}
