//! Coverage by document: for each API, each section of its source document with its
//! explicit rules, each marked tested (with the verdict), untestable (with the spec's
//! reason), an emulator gap, skipped by this run (with why) or not in this run; and each
//! rule number of the API's digest with the rules that trace it.
//!
//! Computed from the suite and its results only, so a report can carry it and `dialtone
//! coverage` can print it; shards' coverages merge (`Coverage::merge`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::result::{TestResult, Verdict};
use super::suite::Suite;
use crate::spec::model::Rule;
use crate::spec::Spec;

/// What became of one rule in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A test of the rule sent its requests and judged the answers (pass, fail or error).
    Tested,
    /// The spec says why no request can observe it.
    Untestable,
    /// The bundled emulator does not answer it as documented yet.
    Gap,
    /// This run skipped it (a safety class, a missing account, a state only the emulator has).
    Skipped,
    /// No test of the rule was in this run (a filter or a shard left it out).
    NotRun,
    /// A digest number no rule traces.
    Untraced,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Tested => "tested",
            Status::Untestable => "untestable",
            Status::Gap => "emulator gap",
            Status::Skipped => "skipped",
            Status::NotRun => "not run",
            Status::Untraced => "untraced",
        }
    }
}

/// One rule, or one digest number, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Rule id (`mediant/alarms/active/cursor`) or digest number (`AC-12`).
    pub id: String,
    pub status: Status,
    /// For tested rules: the worst verdict of their tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Why it is untestable, a gap or skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The tests of a rule; the rules of a digest number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
}

/// One section of a source document and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub section: String,
    pub rules: Vec<Item>,
}

/// Counts of rules by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rules: usize,
    pub tested: usize,
    pub untestable: usize,
    pub gap: usize,
    pub skipped: usize,
    pub not_run: usize,
}

/// The coverage of one API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCoverage {
    pub api: String,
    pub counts: Counts,
    pub sections: Vec<Section>,
    /// The digest's numbers, each with the rules that trace it (`covers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<Item>,
}

/// Coverage of every API of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub apis: Vec<ApiCoverage>,
}

impl Coverage {
    /// The coverage a run's results give its suite.
    pub fn of(suite: &Suite, results: &[TestResult]) -> Coverage {
        // Tests by the rule they exercise: an explicit rule's own entry, and every case
        // (file or rule steps) that names the rule.
        let mut by_rule: ByRule = HashMap::new();
        let by_id: HashMap<&str, &TestResult> =
            results.iter().map(|r| (r.id.as_str(), r)).collect();
        for t in &suite.tests {
            let Some(r) = by_id.get(t.entry.id.as_str()) else {
                continue;
            };
            let mut rules = vec![Cow::Borrowed(t.entry.rule.as_str())];
            if let Some(c) = &t.case {
                rules.extend(c.rules.iter().map(|x| Cow::Owned(format!("{}/{x}", c.api))));
            }
            rules.dedup();
            for rule in rules {
                by_rule.entry(rule).or_default().push(r);
            }
        }
        let apis = suite
            .specs
            .values()
            .map(|spec| api(spec, &by_rule))
            .collect();
        Coverage { apis }
    }

    /// Join another shard's coverage of the same suite: each item keeps the furthest any
    /// shard got (tested beats skipped beats not run).
    pub fn merge(&mut self, other: &Coverage) {
        for o in &other.apis {
            let Some(mine) = self.apis.iter_mut().find(|a| a.api == o.api) else {
                self.apis.push(o.clone());
                continue;
            };
            for (ms, os) in mine.sections.iter_mut().zip(&o.sections) {
                for (mi, oi) in ms.rules.iter_mut().zip(&os.rules) {
                    join(mi, oi);
                }
            }
            for (mi, oi) in mine.digest.iter_mut().zip(&o.digest) {
                join(mi, oi);
            }
            mine.counts = counts(&mine.sections);
        }
    }
}

fn join(mine: &mut Item, other: &Item) {
    if other.status < mine.status {
        *mine = other.clone();
    } else if other.status == mine.status && other.verdict > mine.verdict {
        mine.verdict = other.verdict;
    }
}

/// The results of each rule's tests, by rule id.
type ByRule<'a> = HashMap<Cow<'a, str>, Vec<&'a TestResult>>;

fn api(spec: &Spec, by_rule: &ByRule) -> ApiCoverage {
    let name = spec.name();
    let mut sections: Vec<Section> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut status: BTreeMap<&str, Status> = BTreeMap::new();
    // The rules that trace each digest number, in rule order.
    let mut tracing: HashMap<&str, Vec<&Rule>> = HashMap::new();
    for r in spec.rules() {
        let id = format!("{name}/{}", r.id.get_ref());
        let tests = by_rule.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let item = rule_item(r, &id, tests);
        status.insert(r.id.get_ref(), item.status);
        for n in &r.covers {
            let rules = tracing.entry(n.as_str()).or_default();
            if rules.last().is_none_or(|l| !std::ptr::eq(*l, r)) {
                rules.push(r);
            }
        }
        let sec = section_of(spec, r);
        match at.get(&sec) {
            Some(&i) => sections[i].rules.push(item),
            None => {
                at.insert(sec.clone(), sections.len());
                sections.push(Section {
                    section: sec,
                    rules: vec![item],
                });
            }
        }
    }
    sections.sort_by_cached_key(|s| natural(&s.section));
    let mut digest = Vec::new();
    for d in spec.digests() {
        for n in d.ids() {
            let rules: Vec<&Rule> = tracing.get(n.as_str()).cloned().unwrap_or_default();
            let best = rules
                .iter()
                .filter_map(|r| status.get(r.id.get_ref().as_str()).copied())
                .min()
                .unwrap_or(Status::Untraced);
            digest.push(Item {
                id: n,
                status: best,
                verdict: None,
                why: None,
                by: rules
                    .iter()
                    .map(|r| format!("{name}/{}", r.id.get_ref()))
                    .collect(),
            });
        }
    }
    ApiCoverage {
        api: name.to_string(),
        counts: counts(&sections),
        sections,
        digest,
    }
}

/// What became of one rule, from the results of its tests.
fn rule_item(r: &Rule, id: &str, tests: &[&TestResult]) -> Item {
    let mut item = Item {
        id: id.to_string(),
        status: Status::NotRun,
        verdict: None,
        why: None,
        by: tests.iter().map(|t| t.id.clone()).collect(),
    };
    if let Some(why) = &r.untestable {
        item.status = Status::Untestable;
        item.why = Some(why.clone());
        return item;
    }
    let ran: Vec<&&TestResult> = tests
        .iter()
        .filter(|t| t.verdict != Verdict::Skip)
        .collect();
    if let Some(worst) = ran.iter().map(|t| t.verdict).max() {
        item.status = Status::Tested;
        item.verdict = Some(worst);
        return item;
    }
    if let Some(t) = tests.first() {
        let why = t.message.clone().unwrap_or_default();
        item.status = if why.starts_with("emulator gap:") {
            Status::Gap
        } else {
            Status::Skipped
        };
        item.why = Some(why);
    }
    item
}

fn counts(sections: &[Section]) -> Counts {
    let mut c = Counts::default();
    for i in sections.iter().flat_map(|s| &s.rules) {
        c.rules += 1;
        match i.status {
            Status::Tested => c.tested += 1,
            Status::Untestable => c.untestable += 1,
            Status::Gap => c.gap += 1,
            Status::Skipped => c.skipped += 1,
            Status::NotRun | Status::Untraced => c.not_run += 1,
        }
    }
    c
}

/// The document section a rule cites: the first `§n` or `Table n-m` of its `source`; for
/// documents cited by line only, the resource its endpoint documents (the document is
/// organised by resource), else the block of 500 lines its first line falls in.
pub fn section_of(spec: &Spec, r: &Rule) -> String {
    let source = r.provenance.describe();
    match section(&source) {
        Some(s) => s,
        None => match r.endpoint.as_ref().and_then(|e| spec.endpoint(e.get_ref())) {
            Some(ep) => format!("resource {}", ep.path.get_ref()),
            None => lines(&source),
        },
    }
}

/// The `§n` or `Table n-m` a source cites, if any.
pub fn section(source: &str) -> Option<String> {
    if source.starts_with("inferred") {
        return Some("inferred (no section)".into());
    }
    for (mark, skip) in [("§", '§'.len_utf8()), ("Table ", 6)] {
        if let Some(i) = source.find(mark) {
            let rest = &source[i..];
            let end = rest[skip..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || (mark != "§" && c == '-')))
                .map(|j| j + skip)
                .unwrap_or(rest.len());
            return Some(rest[..end].trim_end_matches('.').to_string());
        }
    }
    None
}

/// The block of 500 lines a line-cited source falls in.
pub fn lines(source: &str) -> String {
    let line = source
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|t| t.strip_prefix('L').and_then(|n| n.parse::<u32>().ok()));
    match line {
        Some(n) => {
            let from = n / 500 * 500;
            format!("lines {}-{}", from.max(1), from + 499)
        }
        None => "other".into(),
    }
}

/// A sort key that orders `§2` before `§10`.
fn natural(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            if !num.is_empty() {
                out.push((std::mem::take(&mut text), num.parse().unwrap_or(0)));
                num.clear();
            }
            text.push(c);
        }
    }
    out.push((text, num.parse().unwrap_or(0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_fall_into_sections() {
        assert_eq!(section("§7 Debug File L2615-2662").as_deref(), Some("§7"));
        assert_eq!(section("§10.2 x").as_deref(), Some("§10.2"));
        assert_eq!(
            section("Table 2-2 row 15 L397").as_deref(),
            Some("Table 2-2")
        );
        assert_eq!(section("L3751-3753"), None);
        assert_eq!(lines("L3751-3753"), "lines 3500-3999");
        assert_eq!(
            section("inferred: no word").as_deref(),
            Some("inferred (no section)")
        );
    }

    #[test]
    fn sections_sort_naturally() {
        let mut v = vec!["§10", "§2", "§2.1"];
        v.sort_by_key(|s| natural(s));
        assert_eq!(v, ["§2", "§2.1", "§10"]);
    }

    #[test]
    fn merging_keeps_the_furthest_status() {
        let item = |s: Status| Item {
            id: "a/r".into(),
            status: s,
            verdict: (s == Status::Tested).then_some(Verdict::Pass),
            why: None,
            by: vec![],
        };
        let cov = |s: Status| Coverage {
            apis: vec![ApiCoverage {
                api: "a".into(),
                counts: Counts::default(),
                sections: vec![Section {
                    section: "§1".into(),
                    rules: vec![item(s)],
                }],
                digest: vec![],
            }],
        };
        let mut a = cov(Status::NotRun);
        a.merge(&cov(Status::Tested));
        assert_eq!(a.apis[0].sections[0].rules[0].status, Status::Tested);
        assert_eq!(a.apis[0].counts.tested, 1);
        a.merge(&cov(Status::Skipped));
        assert_eq!(a.apis[0].sections[0].rules[0].status, Status::Tested);
    }
}
