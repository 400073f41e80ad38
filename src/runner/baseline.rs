//! Known failures (`--baseline FILE`): a vendor gate that fails on new failures only.
//!
//! A baseline lists test ids or globs (`*` matches any run of characters), each with the
//! reason it is known and an optional expiry date. Applied to a finished run:
//!
//! * a failure or error a live entry matches is *known*: it keeps its verdict and evidence,
//!   carries the entry's reason, and does not count towards the exit code;
//! * a test a live entry matches that now passes is *fixed*: the report says to remove the
//!   entry;
//! * an entry past its expiry date covers nothing: its tests count again, and the report
//!   names it;
//! * an entry that matches no test of the run is reported as unused.
//!
//! A baseline never hides a failure: known failures stay in every report, marked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{RunReport, Verdict};

/// A baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{}: cannot read the baseline", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The baseline file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<Entry>,
}

/// One `[[known]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A test id, or a glob over test ids (`*` matches any run of characters).
    pub test: String,
    /// Why the failure is known: a ticket, a firmware version, a decision.
    pub reason: String,
    /// The last day the entry holds (`YYYY-MM-DD`); after it the failures count again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A loaded baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
}

/// What applying a baseline did, for the reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineOutcome {
    /// The baseline file.
    pub file: String,
    /// Failures and errors a live entry covers: (test id, reason).
    pub known: Vec<(String, String)>,
    /// Tests a live entry covers that passed: remove the entry.
    pub fixed: Vec<(String, String)>,
    /// Entries past their date: (test pattern, the date).
    pub expired: Vec<(String, String)>,
    /// Entries that match no test of the run.
    pub unused: Vec<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let at = |span: Option<std::ops::Range<usize>>| {
            span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1)
        };
        let file: File = toml::from_str(text).map_err(|e| BaselineError::Parse {
            path: path.to_path_buf(),
            line: at(e.span()),
            message: e.message().to_string(),
        })?;
        for (i, e) in file.known.iter().enumerate() {
            let line = nth_entry_line(text, i);
            let bad = |message: String| BaselineError::Parse {
                path: path.to_path_buf(),
                line,
                message,
            };
            if e.test.trim().is_empty() {
                return Err(bad("`test` is empty: give a test id or a glob".into()));
            }
            if e.reason.trim().is_empty() {
                return Err(bad(format!("`{}` gives no reason", e.test)));
            }
            if let Some(d) = &e.expires {
                if parse_date(d).is_none() {
                    return Err(bad(format!(
                        "`expires = \"{d}\"` is not a date (YYYY-MM-DD)"
                    )));
                }
            }
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            entries: file.known,
        })
    }

    /// Apply to `report` as of `today` (`YYYY-MM-DD`): mark known failures, and record the
    /// outcome in the report.
    pub fn apply(&self, report: &mut RunReport, today: &str) {
        let today = parse_date(today).unwrap_or((0, 0, 0));
        let mut out = BaselineOutcome {
            file: self.path.display().to_string(),
            ..Default::default()
        };
        let live: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                let expired = e
                    .expires
                    .as_deref()
                    .and_then(parse_date)
                    .is_some_and(|d| d < today);
                if expired {
                    out.expired
                        .push((e.test.clone(), e.expires.clone().unwrap_or_default()));
                }
                !expired
            })
            .collect();
        for e in &self.entries {
            if !report.results.iter().any(|r| glob(&e.test, &r.id)) {
                out.unused.push(e.test.clone());
            }
        }
        for r in &mut report.results {
            let Some(e) = live.iter().find(|e| glob(&e.test, &r.id)) else {
                continue;
            };
            match r.verdict {
                Verdict::Fail | Verdict::Error => {
                    r.known = Some(e.reason.clone());
                    out.known.push((r.id.clone(), e.reason.clone()));
                }
                Verdict::Pass => out.fixed.push((r.id.clone(), e.test.clone())),
                Verdict::Skip => {}
            }
        }
        report.baseline = Some(out);
    }
}

/// A draft baseline covering every failure and error of `report`, one entry each, for a
/// person to give reasons and dates.
pub fn draft(report: &RunReport) -> String {
    let mut s = String::from(
        "# dialtone baseline: known failures (docs/runner.md, \"Known failures\").\n\
         # Give each entry its reason (a ticket, a firmware version) and, if it should lapse, an\n\
         # `expires = \"YYYY-MM-DD\"`. `test` may be a glob: `*` matches any run of characters.\n",
    );
    for r in report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
    {
        let what = r
            .message
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        let entry = Entry {
            test: r.id.clone(),
            reason: format!(
                "TODO: why this is known ({} in the draft's run: {what})",
                r.verdict.as_str()
            ),
            expires: None,
        };
        s.push_str("\n[[known]]\n");
        s.push_str(&toml::to_string(&entry).unwrap_or_default());
    }
    s
}

/// The line of the `i`-th `[[known]]` header.
fn nth_entry_line(text: &str, i: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[known]]"))
        .nth(i)
        .map(|(n, _)| n + 1)
        .unwrap_or(1)
}

/// `YYYY-MM-DD` as comparable numbers.
fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y: u32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d) && y >= 1970).then_some((y, m, d))
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = match s.strip_prefix(parts[0]) {
        Some(r) => r,
        None => return false,
    };
    for (i, p) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            return rest.len() >= p.len() && rest.ends_with(p);
        }
        match rest.find(p) {
            Some(j) => rest = &rest[j + p.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn baseline(text: &str) -> Baseline {
        Baseline::parse(text, Path::new("b.toml")).unwrap()
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("a/*/c", "a/b/x/c"));
        assert!(glob("a/*", "a/"));
        assert!(!glob("a/*/c", "a/b/d"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*limit-zero", "ports.list.cursor.limit-zero"));
    }

    #[test]
    fn known_failures_do_not_count_and_stay_in_the_report() {
        let mut r = fixture::report();
        assert_eq!(r.exit_code(), crate::exit::FOUND);
        baseline(
            "[[known]]\ntest = \"ports.list.cursor.*\"\nreason = \"ticket 12\"\n\
             [[known]]\ntest = \"alarms.list.matrix.viewer\"\nreason = \"lab network\"\n",
        )
        .apply(&mut r, "2026-12-05");
        assert_eq!(r.exit_code(), crate::exit::CLEAN);
        let t = r.totals();
        assert_eq!((t.fail, t.error, t.known), (0, 0, 2));
        let fail = r
            .results
            .iter()
            .find(|x| x.id == "ports.list.cursor.limit-zero")
            .unwrap();
        assert_eq!(fail.verdict, Verdict::Fail);
        assert_eq!(fail.known.as_deref(), Some("ticket 12"));
    }

    #[test]
    fn fixed_expired_and_unused_entries_are_reported() {
        let mut r = fixture::report();
        baseline(
            "[[known]]\ntest = \"ports.list.format.json\"\nreason = \"was broken\"\n\
             [[known]]\ntest = \"ports.list.cursor.limit-zero\"\nreason = \"old\"\nexpires = \"2026-01-31\"\n\
             [[known]]\ntest = \"nothing.like.this\"\nreason = \"gone\"\n",
        )
        .apply(&mut r, "2026-12-05");
        let b = r.baseline.clone().unwrap();
        assert_eq!(
            b.fixed,
            vec![(
                "ports.list.format.json".into(),
                "ports.list.format.json".into()
            )]
        );
        assert_eq!(
            b.expired,
            vec![("ports.list.cursor.limit-zero".into(), "2026-01-31".into())]
        );
        assert_eq!(b.unused, vec!["nothing.like.this".to_string()]);
        // The expired entry covers nothing: the failure counts again.
        assert_eq!(r.exit_code(), crate::exit::FOUND);
    }

    #[test]
    fn bad_baselines_name_the_line() {
        let e = Baseline::parse(
            "[[known]]\ntest = \"x\"\nreason = \"\"\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("b.toml:1:") && e.contains("no reason"), "{e}");
        let e = Baseline::parse(
            "[[known]]\ntest = \"x\"\nreason = \"y\"\n\n[[known]]\ntest = \"z\"\nreason = \"w\"\nexpires = \"soon\"\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("b.toml:5:") && e.contains("soon"), "{e}");
        let e = Baseline::parse(
            "[[known]]\ntest = \"x\"\nreasn = \"y\"\n",
            Path::new("b.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("reasn"), "{e}");
    }

    #[test]
    fn a_draft_lists_every_failure_and_reads_back() {
        let text = draft(&fixture::report());
        let b = baseline(&text);
        assert_eq!(b.entries.len(), 2, "{text}");
        let mut r = fixture::report();
        b.apply(&mut r, "2026-12-05");
        assert_eq!(r.exit_code(), crate::exit::CLEAN);
    }

    #[test]
    fn today_is_a_date() {
        assert!(parse_date(&today()).is_some(), "{}", today());
    }
}
