//! Findings as replayable scenario cases (`docs/cases.md`): one TOML file per finding,
//! with the mutations and the `curl` reproducer in comments, and the reproducer alone in a
//! `.curl` file next to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::mutate::{Draft, Mutation};
use super::oracle::{Judge, PROTOCOL_STATUSES};
use super::{FuzzReport, Oracle};
use crate::spec::Spec;

pub(super) struct CaseInput<'a> {
    pub name: &'a str,
    pub endpoint: &'a str,
    pub op_method: &'a str,
    pub role: &'a str,
    pub base: Option<&'a str>,
    pub base_path: &'a str,
    pub read: bool,
    pub source: &'a str,
    pub oracle: Oracle,
    pub status: Option<u16>,
    pub message: &'a str,
    pub mutations: &'a [Mutation],
    pub draft: &'a Draft,
    pub seed: u64,
}

/// A file stem that is the same for the same (api, endpoint, method, oracle, status).
pub(super) fn name(
    api: &str,
    endpoint: &str,
    method: &str,
    oracle: Oracle,
    status: Option<u16>,
) -> String {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{api}\u{0}{endpoint}\u{0}{method}\u{0}{status:?}").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fuzz-{api}-{}-{:08x}", oracle.as_str(), h as u32)
}

/// The replayable case of a finding: comments saying what was found and how to replay it,
/// then the case (one step: the minimized request, expecting what a conformant target may
/// answer).
pub(super) fn case_text(
    spec: &Spec,
    judge: &Judge,
    c: &CaseInput<'_>,
    redact: &dyn Fn(&str) -> String,
) -> String {
    let api = spec.name();
    let mut step = request_step(c, redact);
    expectations(&mut step, judge, c.oracle);
    let mut top = toml::Table::new();
    top.insert("id".into(), format!("{api}/case/{}", c.name).into());
    top.insert("api".into(), api.into());
    top.insert(
        "summary".into(),
        format!(
            "fuzz finding on {} {}: {} ({})",
            c.op_method,
            c.endpoint,
            c.oracle.as_str(),
            c.message
        )
        .into(),
    );
    top.insert("source".into(), c.source.into());
    let safe = matches!(c.draft.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    top.insert(
        "safety".into(),
        if c.read && safe { "read" } else { "write" }.into(),
    );
    top.insert("step".into(), toml::Value::Array(vec![step.into()]));
    let mut out = header_comment(api, c);
    out.push_str(&toml::to_string(&top).unwrap_or_default());
    out
}

/// The case's step: the minimized request, redacted.
fn request_step(c: &CaseInput<'_>, redact: &dyn Fn(&str) -> String) -> toml::Table {
    let d = c.draft;
    let target = d.target();
    let path = target
        .strip_prefix(c.base_path)
        .or_else(|| target.strip_prefix(c.base_path.trim_end_matches('/')))
        .unwrap_or(&target)
        .to_string();
    let mut step = toml::Table::new();
    step.insert("name".into(), "the fuzzed request".into());
    step.insert("as".into(), c.role.into());
    step.insert("method".into(), d.method.clone().into());
    step.insert("path".into(), redact(&path).into());
    if let Some(b) = c.base {
        step.insert("base".into(), b.into());
    }
    let mut headers = toml::Table::new();
    for (h, v) in &d.headers {
        // The case format holds each header once; a repeated one is sent with its first
        // value.
        if !headers.contains_key(h) {
            headers.insert(h.clone(), redact(v).into());
        }
    }
    if !headers.is_empty() {
        step.insert("headers".into(), headers.into());
    }
    if let Some(ct) = &d.content_type {
        step.insert("content_type".into(), ct.clone().into());
    }
    if let Some(b) = &d.body {
        // A text body is redacted like the evidence; bytes that are not text go as they
        // are (the fuzzer's own, derived from the spec's examples).
        let bytes = match std::str::from_utf8(b) {
            Ok(t) => redact(t).into_bytes(),
            Err(_) => b.clone(),
        };
        step.insert(
            "body_b64".into(),
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        );
    }
    step
}

/// What a conformant target may answer, added to `step`: any documented status below 500,
/// the operation's rejection (400) first when the spec documents one; and for a finding
/// about the answer's type, the types it may have.
fn expectations(step: &mut toml::Table, judge: &Judge, oracle: Oracle) {
    let mut expect: Vec<u16> = judge
        .statuses
        .iter()
        .copied()
        .chain(PROTOCOL_STATUSES)
        .filter(|s| *s < 500)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let Some(i) = expect.iter().position(|s| *s == 400) {
        let s = expect.remove(i);
        expect.insert(0, s);
    }
    step.insert(
        "expect".into(),
        toml::Value::Array(expect.iter().map(|s| s.to_string().into()).collect()),
    );
    let types = match oracle {
        Oracle::ContentType => &judge.content_types,
        Oracle::ErrorEnvelope => &judge.error_types,
        _ => return,
    };
    step.insert(
        "content_types".into(),
        toml::Value::Array(types.iter().map(|s| s.clone().into()).collect()),
    );
}

/// The comment lines heading a case: the finding, its mutations, how to replay it.
fn header_comment(api: &str, c: &CaseInput<'_>) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# dialtone fuzz finding (seed {}): oracle `{}` on {} {} {}\n",
        c.seed,
        c.oracle.as_str(),
        api,
        c.op_method,
        c.endpoint
    ));
    out.push_str(&format!(
        "# observed: {}{}\n",
        c.status
            .map(|s| format!("status {s}; "))
            .unwrap_or_default(),
        c.message.replace('\n', " ")
    ));
    out.push_str("# mutations of the operation's sample request:\n");
    for m in c.mutations {
        out.push_str(&format!("#   - {}\n", m.to_string().replace('\n', " ")));
    }
    out.push_str(&format!(
        "# replay: dialtone run --spec {api} --cases-dir DIR {api}/case/{}\n",
        c.name
    ));
    out.push_str(&format!(
        "# curl reproducer (credentials from $DIALTONE_<ROLE>_* variables): {}.curl\n\n",
        c.name
    ));
    out
}

/// Write every finding of `report` under `dir` as `<name>.toml` (the case) and
/// `<name>.curl` (the reproducer). Returns the case files written.
pub fn save(report: &FuzzReport, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for f in &report.findings {
        let case = dir.join(format!("{}.toml", f.name));
        std::fs::write(&case, &f.case)?;
        let curl = format!(
            "#!/bin/sh\n# dialtone fuzz finding `{}` ({} {} {}): {}\n# Set the target's base URL in the command, and DIALTONE_<ROLE>_USER/_PASSWORD or _TOKEN.\n{}\n",
            f.oracle.as_str(),
            f.api,
            f.method,
            f.endpoint,
            f.message.replace('\n', " "),
            f.exchange.curl
        );
        let curl = match &f.body {
            Some(b) if curl.contains("@request-body.bin") => {
                let file = format!("{}.body", f.name);
                std::fs::write(dir.join(&file), b)?;
                curl.replace("@request-body.bin", &format!("@{file}"))
            }
            _ => curl,
        };
        std::fs::write(dir.join(format!("{}.curl", f.name)), curl)?;
        out.push(case);
    }
    Ok(out)
}
