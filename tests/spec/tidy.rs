//! The shape of the source tree (ARCHITECTURE.md, "The dependency rule"): which layers may
//! import which, where vendor names may appear, and how long files and functions may grow.
//! These read `src/` as text; they fail with every offending place listed.

use std::path::{Path, PathBuf};

/// Production lines per file (in-file `#[cfg(test)]` modules not counted).
const MAX_FILE_LINES: usize = 800;
/// Lines per function, signature to closing brace.
const MAX_FN_LINES: usize = 150;

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for e in entries {
                walk(&e, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p.to_path_buf());
        }
    }
    let mut files = Vec::new();
    walk(Path::new(dir), &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// The text of a file before its `#[cfg(test)]` module, where it has one.
fn production(text: &str) -> &str {
    match text.find("\n#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Lines of `path`'s production code that mention any of `needles`.
fn mentions(root: &str, needles: &[&str], except: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for (p, text) in sources(root) {
        let shown = p.display().to_string();
        if except.iter().any(|x| shown.starts_with(x)) {
            continue;
        }
        for (n, line) in production(&text).lines().enumerate() {
            if needles.iter().any(|x| line.contains(x)) {
                hits.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn layers_import_only_downwards() {
    let mut bad = Vec::new();
    // Nothing below the emulator, nor its sibling the runner, nor the fuzzer imports it.
    for dir in [
        "src/spec",
        "src/plan",
        "src/runner",
        "src/netfuzz",
        "src/props",
        "src/sample.rs",
        "src/profile.rs",
        "src/codec",
        "src/contract.rs",
        "src/oracle",
    ] {
        bad.extend(mentions(dir, &["crate::emulator", "emulator::"], &[]));
    }
    // The response oracle reads a spec and an answer: nothing of the client side.
    bad.extend(mentions(
        "src/oracle",
        &[
            "crate::plan",
            "crate::runner",
            "crate::profile",
            "crate::netfuzz",
        ],
        &[],
    ));
    // The emulator imports neither its sibling nor the client-side layers.
    bad.extend(mentions(
        "src/emulator",
        &[
            "crate::runner",
            "crate::profile",
            "crate::plan",
            "crate::netfuzz",
        ],
        &[],
    ));
    // The spec knows nothing above it.
    bad.extend(mentions(
        "src/spec",
        &[
            "crate::plan",
            "crate::runner",
            "crate::profile",
            "crate::sample",
        ],
        &[],
    ));
    // The plan is pure: no runner, emulator or profile.
    bad.extend(mentions(
        "src/plan",
        &["crate::runner", "crate::profile"],
        &[],
    ));
    // Leaves import nothing of ours but each other.
    bad.extend(mentions("src/codec", &["crate::"], &[]));
    assert!(
        bad.is_empty(),
        "imports against the dependency rule:\n{}",
        bad.join("\n")
    );
}

#[test]
fn vendor_names_live_behind_the_vendor_seam() {
    let bad = mentions(
        "src/emulator",
        &[
            "\"mediant\"",
            "\"rome\"",
            "\"sipxconfig\"",
            "\"roaming-profile\"",
        ],
        &["src/emulator/vendor/", "src/emulator/faults.rs"],
    );
    assert!(
        bad.is_empty(),
        "vendor names outside src/emulator/vendor/:\n{}",
        bad.join("\n")
    );
}

#[test]
fn files_and_functions_stay_short() {
    let mut bad = Vec::new();
    for (p, text) in sources("src") {
        let prod = production(&text);
        let lines: Vec<&str> = prod.lines().collect();
        if lines.len() > MAX_FILE_LINES {
            bad.push(format!("{}: {} production lines", p.display(), lines.len()));
        }
        for (i, line) in lines.iter().enumerate() {
            let Some((indent, name)) = fn_start(line) else {
                continue;
            };
            // rustfmt puts a function's closing brace alone at the signature's indentation.
            let close = format!("{indent}}}");
            let Some(end) = lines[i + 1..].iter().position(|l| *l == close) else {
                continue;
            };
            let len = end + 2;
            if len > MAX_FN_LINES {
                bad.push(format!(
                    "{}:{}: fn {name} is {len} lines",
                    p.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "over {MAX_FILE_LINES} lines per file or {MAX_FN_LINES} per function:\n{}",
        bad.join("\n")
    );
}

/// `(indentation, name)` when `line` opens a function body.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let mut rest = body;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    if let Some(r) = rest.strip_prefix("pub(in ") {
        rest = r.split_once(") ")?.1;
        rest = rest.strip_prefix("async ").unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let name = name.split(['(', '<']).next()?;
    if line.trim_end().ends_with(';') {
        return None;
    }
    Some((indent, name))
}
