//! The fuzz report ([`FuzzReport`]) for people and machines: a progress line while the
//! fuzzer runs, the findings and a summary after it, and the report as JSON.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::netfuzz::{Finding, FuzzReport, Progress};

/// A spinner on stderr with the fuzzer's counts, redrawn at most ten times a second.
pub struct FuzzProgress {
    bar: ProgressBar,
    last_draw: Instant,
}

impl FuzzProgress {
    /// A spinner on stderr when `show`, else one that draws nothing.
    pub fn new(show: bool) -> FuzzProgress {
        let bar = if show {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(st) = ProgressStyle::with_template("{elapsed:>4} {spinner} {msg}") {
                b.set_style(st);
            }
            b
        } else {
            ProgressBar::hidden()
        };
        FuzzProgress {
            bar,
            last_draw: Instant::now(),
        }
    }

    /// Show where the run is (`p`), unless the last redraw was under 100 ms ago.
    pub fn update(&mut self, p: &Progress) {
        if self.last_draw.elapsed() >= Duration::from_millis(100) {
            self.last_draw = Instant::now();
            let rps = p.requests as f64 / p.elapsed.as_secs_f64().max(1e-3);
            self.bar.set_message(format!(
                "{} fuzzed, {} requests ({rps:.0}/s), {} findings",
                p.fuzzed, p.requests, p.findings
            ));
            self.bar.tick();
        }
    }

    /// Take the spinner off the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Write the findings, then (unless `quiet`) what was fuzzed and how it answered, then the
/// one-line summary.
pub fn summary(report: &FuzzReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        finding(f, quiet, out)?;
    }
    if !quiet {
        writeln!(out, "operations fuzzed: {}", joined(&report.operations))?;
        for (why, n) in &report.skipped {
            writeln!(out, "left out: {n} {why}")?;
        }
        writeln!(out, "answers: {}", joined(&report.answers))?;
    }
    let per = joined(&report.per_oracle());
    let ops: usize = report.operations.values().sum();
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
            format!(" ({per})")
        }
    )
}

/// Say where `saved` findings went and how to replay them against `spec`.
pub fn saved(saved: usize, dir: &Path, spec: &str, out: &mut dyn Write) -> io::Result<()> {
    if saved == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "saved {} findings in {} (replay: dialtone run --spec {} --cases-dir {})",
        saved,
        dir.display(),
        spec,
        dir.display()
    )
}

/// Write the report as pretty-printed JSON to `out`.
pub fn write_json(report: &FuzzReport, out: impl Write) -> serde_json::Result<()> {
    serde_json::to_writer_pretty(out, report)
}

/// One finding: its headline, and (unless `quiet`) how it was made and a reproducer.
fn finding(f: &Finding, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "FINDING {} {} {} {}: {}",
        f.oracle.as_str(),
        f.api,
        f.method,
        f.endpoint,
        f.message
    )?;
    if quiet {
        return Ok(());
    }
    let muts: Vec<String> = f.mutations.iter().map(|m| m.to_string()).collect();
    writeln!(
        out,
        "    mutations ({} after minimizing; found with {}): {}",
        f.mutations.len(),
        f.found_with,
        muts.join("; ")
    )?;
    writeln!(out, "    found after {:.1} s", f.found_after_s)?;
    writeln!(out, "    {}", f.exchange.curl)
}

/// `key value` pairs, comma-separated.
fn joined<K: std::fmt::Display, V: std::fmt::Display>(
    m: &std::collections::BTreeMap<K, V>,
) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
