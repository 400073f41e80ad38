//! `dialtone lint`: check spec files and report every problem with `file:line:col`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use dialtone::{exit, plan, spec};

/// Expand lint arguments: a directory whose subdirectories are specs lints each of them.
fn lint_targets(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let paths = if paths.is_empty() {
        vec![spec::specs_dir()]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        let is_container = p.is_dir()
            && !std::fs::read_dir(&p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .any(|e| e.path().extension().is_some_and(|x| x == "toml"))
                })
                .unwrap_or(false);
        if is_container {
            let mut subs: Vec<PathBuf> = std::fs::read_dir(&p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            subs.sort();
            if subs.is_empty() {
                out.push(p);
            } else {
                out.extend(subs);
            }
        } else {
            out.push(p);
        }
    }
    out
}

/// A spec, or, for a file holding an `[overlay]` table, the spec it names with it applied.
fn load(t: &std::path::Path) -> Result<spec::Spec, Vec<dialtone::diag::Diagnostic>> {
    let is_overlay = t.is_file()
        && std::fs::read_to_string(t).is_ok_and(|x| x.lines().any(|l| l.trim() == "[overlay]"));
    if !is_overlay {
        return dialtone::load(t);
    }
    let o = spec::overlay::Overlay::load(t)?;
    let path = spec::resolve(&o.meta.spec);
    dialtone::load_overlaid(&path, &[o])
}

pub(crate) fn lint(paths: Vec<PathBuf>, json: bool) -> Result<u8> {
    let mut total = 0usize;
    let mut clean = 0usize;
    let targets = lint_targets(paths);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for t in &targets {
        match load(t) {
            Ok(s) if !s.overlays.is_empty() => {
                clean += 1;
                if !json {
                    writeln!(
                        out,
                        "{}: ok (overlay of spec {}: {} deviations, {} tests changed, {} taken away)",
                        t.display(),
                        s.name(),
                        s.overlays.iter().map(|o| o.deviations.len()).sum::<usize>(),
                        s.changes.changed.len(),
                        s.changes.removed.len()
                    )?;
                }
            }
            Ok(s) => {
                clean += 1;
                if !json {
                    let p = plan::plan(&s);
                    writeln!(
                        out,
                        "{}: ok ({} endpoints, {} rules, {} plan entries)",
                        t.display(),
                        s.endpoints().count(),
                        s.rules().count(),
                        p.len()
                    )?;
                }
            }
            Err(diags) => {
                total += diags.len();
                for d in diags {
                    if json {
                        writeln!(out, "{}", serde_json::to_string(&d)?)?;
                    } else {
                        writeln!(out, "{d}")?;
                    }
                }
            }
        }
    }
    if !json {
        writeln!(
            out,
            "{} of {} specs clean, {} problems",
            clean,
            targets.len(),
            total
        )?;
    }
    Ok(if total == 0 && clean == targets.len() {
        exit::CLEAN
    } else {
        exit::ERROR
    })
}
