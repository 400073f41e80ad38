//! The terminal face of a run: a progress bar on stderr while it goes, and a plain-text
//! summary after it. The summary is deterministic: apart from the run's duration and rate it
//! holds nothing that changes between two runs with the same results.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::{RunReport, TestResult, Totals, Verdict};

/// How many noted test ids the summary lists.
const NOTES_SHOWN: usize = 20;

/// A progress bar on stderr. Hidden when stderr is not a terminal.
pub struct Progress {
    bar: ProgressBar,
    fail: AtomicUsize,
    error: AtomicUsize,
}

impl Progress {
    /// A bar for `total` tests, drawn on stderr if it is a terminal.
    pub fn new(total: u64) -> Progress {
        if !io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress::with_bar(bar)
    }

    /// A bar that draws nothing (tests, `--quiet`, machine output).
    pub fn hidden() -> Progress {
        Progress::with_bar(ProgressBar::hidden())
    }

    fn with_bar(bar: ProgressBar) -> Progress {
        Progress {
            bar,
            fail: AtomicUsize::new(0),
            error: AtomicUsize::new(0),
        }
    }

    /// Counts one finished test.
    pub fn tick(&self, r: &TestResult) {
        match r.verdict {
            Verdict::Fail => {
                self.fail.fetch_add(1, Ordering::Relaxed);
            }
            Verdict::Error => {
                self.error.fetch_add(1, Ordering::Relaxed);
            }
            Verdict::Pass | Verdict::Skip => {}
        }
        self.bar.set_message(self.message());
        self.bar.inc(1);
    }

    /// Failures and errors so far, as the bar shows them.
    fn message(&self) -> String {
        format!(
            "{} fail, {} error",
            self.fail.load(Ordering::Relaxed),
            self.error.load(Ordering::Relaxed)
        )
    }

    /// Ends the bar and clears it, so the summary starts on a clean line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Tests counted so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }
}

/// The run's header: what was tested, how, and how long it took.
fn header(report: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let info = &report.info;
    writeln!(
        out,
        "dialtone {}: {}{}",
        info.dialtone_version,
        info.target,
        if info.emulator { " (emulator)" } else { "" }
    )?;
    writeln!(
        out,
        "mode: {}    allow: {}    specs: {}",
        info.mode,
        info.allow.join(", "),
        if info.specs.is_empty() {
            "-".to_string()
        } else {
            info.specs.join(", ")
        }
    )?;
    let rate = super::rate(report)
        .map(|r| format!("{r:.1}/s"))
        .unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "duration: {}    requests: {} ({rate})    seed: {}    cases: {}    time budget: {} s",
        seconds(info.duration_ms),
        info.requests,
        info.seed,
        info.cases,
        info.time_budget_s
    )?;
    Ok(())
}

/// Writes the plain-text summary of `report`.
/// What the baseline did: known failures, fixed entries, expired and unused ones.
fn baseline(b: &crate::runner::baseline::BaselineOutcome, out: &mut impl Write) -> io::Result<()> {
    let sections: [(&str, Vec<String>); 4] = [
        (
            "Known failures (the baseline's; not counted)",
            b.known
                .iter()
                .map(|(id, why)| format!("{id}: {}", one_line(why)))
                .collect(),
        ),
        (
            "Fixed: these pass now; remove their entries from the baseline",
            b.fixed
                .iter()
                .map(|(id, pat)| format!("{id} (entry `{pat}`)"))
                .collect(),
        ),
        (
            "Expired entries: their tests count again",
            b.expired
                .iter()
                .map(|(pat, d)| format!("`{pat}` expired after {d}"))
                .collect(),
        ),
        (
            "Unused entries: no test of this run matches them",
            b.unused.iter().map(|p| format!("`{p}`")).collect(),
        ),
    ];
    for (title, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{title} ({}), baseline {}", lines.len(), b.file)?;
        for l in lines {
            writeln!(out, "  {l}")?;
        }
    }
    Ok(())
}

pub fn summary(report: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let totals = report.totals();
    header(report, out)?;
    writeln!(out)?;

    table(report, &totals, out)?;
    writeln!(out)?;
    let verdict = match report.exit_code() {
        crate::exit::CLEAN => "conformant",
        crate::exit::FOUND => "NON-CONFORMANT",
        _ => "UNDECIDED (errors, no failure)",
    };
    let known = if totals.known > 0 {
        format!(", {} known", totals.known)
    } else {
        String::new()
    };
    writeln!(
        out,
        "result: {verdict} (exit {}): {} pass, {} fail, {} error, {} skip{known}",
        report.exit_code(),
        totals.pass,
        totals.fail,
        totals.error,
        totals.skip
    )?;
    if let Some(b) = &report.baseline {
        baseline(b, out)?;
    }
    if let Some(line) = super::overlay_line(report) {
        writeln!(out, "{line}")?;
    }

    // Tests that were never sent (a target taken for gone, an interrupted run) share one
    // message: one line each, not one section per test.
    let (unsent, problems): (Vec<_>, Vec<_>) = super::problems(report).into_iter().partition(|r| {
        r.verdict == crate::runner::Verdict::Error
            && r.message
                .as_deref()
                .is_some_and(|m| m.starts_with("not sent:") || m.starts_with("not run:"))
    });
    if !unsent.is_empty() {
        let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
        for r in &unsent {
            *by.entry(r.message.as_deref().unwrap_or("")).or_default() += 1;
        }
        writeln!(out)?;
        for (m, n) in by {
            writeln!(out, "{n} tests were not run: {}", one_line(m))?;
        }
    }
    if !problems.is_empty() {
        writeln!(out)?;
        writeln!(out, "Failures and errors ({})", problems.len())?;
        for r in problems {
            writeln!(out)?;
            problem(r, out)?;
        }
    }

    let skips = super::skip_reasons(report);
    if !skips.is_empty() {
        writeln!(out)?;
        writeln!(out, "Skipped ({}), by reason", totals.skip)?;
        let width = skips
            .iter()
            .map(|(_, n)| n.to_string().len())
            .max()
            .unwrap_or(1);
        for (reason, n) in &skips {
            writeln!(out, "  {n:>width$}  {}", one_line(reason))?;
        }
    }

    let noted = super::noted(report);
    if !noted.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Lenient-mode notes ({}): passes that --strict would fail",
            noted.len()
        )?;
        for r in noted.iter().take(NOTES_SHOWN) {
            writeln!(
                out,
                "  {}: {}",
                r.id,
                one_line(r.note.as_deref().unwrap_or(""))
            )?;
        }
        if noted.len() > NOTES_SHOWN {
            writeln!(
                out,
                "  ... and {} more (see the JSON report)",
                noted.len() - NOTES_SHOWN
            )?;
        }
    }
    Ok(())
}

/// The per-API × kind table with a total row.
fn table(report: &RunReport, totals: &Totals, out: &mut impl Write) -> io::Result<()> {
    let rows = super::by_api_kind(report);
    let api_w = rows
        .keys()
        .map(|(a, _)| a.len())
        .chain(["API".len(), "total".len()])
        .max()
        .unwrap_or(3);
    let kind_w = rows
        .keys()
        .map(|(_, k)| k.len())
        .chain(["KIND".len()])
        .max()
        .unwrap_or(4);
    let line = |out: &mut dyn Write, api: &str, kind: &str, c: [String; 5]| {
        writeln!(
            out,
            "  {api:<api_w$}  {kind:<kind_w$}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}",
            c[0], c[1], c[2], c[3], c[4]
        )
    };
    let cells = |t: &Totals| [t.pass, t.fail, t.error, t.skip, t.total()].map(|n| n.to_string());
    line(
        out,
        "API",
        "KIND",
        ["PASS", "FAIL", "ERROR", "SKIP", "TOTAL"].map(str::to_string),
    )?;
    for ((api, kind), t) in &rows {
        line(out, api, kind, cells(t))?;
    }
    line(out, "total", "", cells(totals))
}

/// One failing or erroring test, with its evidence.
fn problem(r: &TestResult, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{} {}", r.verdict.as_str().to_uppercase(), r.id)?;
    field(out, "rule", &r.rule)?;
    field(out, "level", &r.level)?;
    field(out, "source", &r.source)?;
    field(out, "summary", &r.summary)?;
    if let Some(m) = &r.message {
        field(out, "message", m)?;
    }
    if let Some(e) = &r.expected {
        field(out, "expected", e)?;
    }
    if let Some(a) = &r.actual {
        field(out, "actual", a)?;
    }
    if !r.exchanges.is_empty() {
        writeln!(out, "  reproduce:")?;
        for (i, x) in r.exchanges.iter().enumerate() {
            let outcome = match (&x.status, &x.error) {
                (_, Some(e)) => one_line(e),
                (Some(s), None) => s.to_string(),
                (None, None) => "no answer".into(),
            };
            writeln!(out, "    {}. {} {} -> {outcome}", i + 1, x.method, x.url)?;
            writeln!(out, "       {}", x.curl)?;
        }
    }
    Ok(())
}

/// `  name:     value`, with further lines of `value` indented under the first.
fn field(out: &mut impl Write, name: &str, value: &str) -> io::Result<()> {
    let mut lines = value.lines();
    writeln!(
        out,
        "  {:<10}{}",
        format!("{name}:"),
        lines.next().unwrap_or("")
    )?;
    for l in lines {
        writeln!(out, "  {:<10}{l}", "")?;
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn seconds(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn text() -> String {
        let mut buf = Vec::new();
        summary(&fixture::report(), &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    /// The table row for `api`/`kind`, split into words.
    fn row(text: &str, api: &str, kind: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .find(|w| w.len() == 7 && w[0] == api && w[1] == kind)
            .unwrap_or_else(|| panic!("no row for {api}/{kind} in:\n{text}"))
    }

    #[test]
    fn counts_per_api_and_kind() {
        let t = text();
        // pass fail error skip total
        assert_eq!(row(&t, "ports", "cursor")[2..], ["0", "1", "0", "0", "1"]);
        assert_eq!(row(&t, "ports", "matrix")[2..], ["1", "0", "0", "0", "1"]);
        assert_eq!(row(&t, "alarms", "matrix")[2..], ["0", "0", "1", "0", "1"]);
        assert_eq!(row(&t, "alarms", "state")[2..], ["0", "0", "0", "2", "2"]);
        let total = t
            .lines()
            .find(|l| l.trim_start().starts_with("total"))
            .unwrap();
        assert_eq!(
            total.split_whitespace().collect::<Vec<_>>(),
            ["total", "2", "1", "1", "3", "7"]
        );
        assert!(t.contains("mode: lenient"), "{t}");
        assert!(t.contains("requests: 10 (5.0/s)"), "{t}");
        assert!(t.contains("seed: 42    cases: 16"), "{t}");
        assert!(t.contains("duration: 2.00 s"), "{t}");
        assert!(t.contains("NON-CONFORMANT (exit 1)"), "{t}");
    }

    #[test]
    fn failures_carry_evidence_and_curl() {
        let t = text();
        let fail = t.find("FAIL ports.list.cursor.limit-zero").expect(&t);
        let error = t.find("ERROR alarms.list.matrix.viewer").expect(&t);
        assert!(fail < error, "failures come before errors:\n{t}");
        let section = &t[fail..error];
        assert!(
            section.contains("rule-of-ports.list.cursor.limit-zero"),
            "{t}"
        );
        assert!(section.contains("TS 32.158 §5.2"), "{t}");
        assert!(section.contains("expected: status 400"), "{t}");
        assert!(section.contains("actual:   status 200 <html>"), "{t}");
        assert!(section.contains(fixture::FAIL_CURL), "{t}");
        assert!(
            t[error..].contains("cannot connect: connection refused"),
            "{t}"
        );
        // Passes and skips are not listed one by one.
        assert!(!t.contains("PASS ports"), "{t}");
        assert!(!t.contains("alarms.clear.state.a"), "{t}");
    }

    #[test]
    fn skips_are_grouped_by_reason() {
        let t = text();
        assert!(
            t.contains("  2  write tests not allowed (--allow write)"),
            "{t}"
        );
        assert!(t.contains("  1  no sample for field `x`"), "{t}");
        assert_eq!(t.matches("write tests not allowed").count(), 1, "{t}");
    }

    #[test]
    fn lenient_notes_are_listed() {
        let t = text();
        assert!(t.contains("Lenient-mode notes (1)"), "{t}");
        assert!(
            t.contains("ports.list.matrix.admin: answered 200 where 204 is preferred"),
            "{t}"
        );
    }

    #[test]
    fn tests_never_sent_are_one_line_not_one_section_each() {
        let mut r = fixture::report();
        let template = r.results[3].clone();
        for i in 0..3 {
            let mut x = template.clone();
            x.id = format!("gone.{i}");
            x.message = Some("not sent: the target gave no answer to 10 requests in a row".into());
            x.exchanges.clear();
            r.results.push(x);
        }
        let mut buf = Vec::new();
        summary(&r, &mut buf).unwrap();
        let t = String::from_utf8(buf).unwrap();
        assert!(
            t.contains("3 tests were not run: not sent: the target gave no answer"),
            "{t}"
        );
        assert!(!t.contains("gone.1"), "{t}");
    }

    #[test]
    fn summary_is_deterministic() {
        let mut shuffled = fixture::report();
        shuffled.results.reverse();
        let mut buf = Vec::new();
        summary(&shuffled, &mut buf).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), text());
    }

    #[test]
    fn progress_counts() {
        let p = Progress::hidden();
        for r in &fixture::report().results {
            p.tick(r);
        }
        assert_eq!(p.position(), 7);
        assert_eq!(p.message(), "1 fail, 1 error");
        p.finish();
    }
}
