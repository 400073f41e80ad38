//! `dialtone certify`: the whole suite, then an evidence bundle of it; and `certify verify`.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};

use super::args::RunArgs;
use dialtone::certify;
use dialtone::exit;

pub(crate) fn certify(a: &RunArgs) -> Result<u8> {
    let Some(out) = a.out.clone() else {
        bail!("certify needs --out DIR: the bundle directory (DIR.tar.gz is written beside it)");
    };
    if a.targets.is_some() || a.partition.is_some() {
        bail!("certify runs one whole suite against one target: no --targets, no --partition");
    }
    if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
        bail!(
            "{}: the bundle directory is not empty; give a new one",
            out.display()
        );
    }
    let Some(report) = super::run::run_report(a, false)? else {
        return Ok(exit::CLEAN);
    };
    let specs = super::load_named_with(&a.shared.spec, &a.shared.overlays)?;
    let names: Vec<String> = specs.iter().map(|s| s.name().to_string()).collect();
    let paths: Vec<(std::path::PathBuf, &dialtone::spec::Spec)> = names
        .iter()
        .zip(&specs)
        .map(|(n, s)| {
            let p = if a.shared.spec == "all" {
                dialtone::spec::resolve(n)
            } else {
                dialtone::spec::resolve(&a.shared.spec)
            };
            (p, s)
        })
        .collect();
    let profile = match &a.shared.profile {
        Some(p) => Some(std::fs::read_to_string(p)?),
        None => None,
    };
    let finished = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let inputs = certify::Inputs {
        specs: &paths,
        profile,
        baseline: a.baseline.as_deref(),
    };
    let archive = certify::write_bundle(&out, &report, &inputs, finished)?;
    let mut o = std::io::stdout().lock();
    if !a.test.quiet || report.exit_code() != exit::CLEAN {
        dialtone::report::terminal::summary(&report, &mut o)?;
    }
    writeln!(
        o,
        "\nbundle: {} and {} (check with `dialtone certify verify {}`)",
        out.display(),
        archive.display(),
        out.display()
    )?;
    o.flush()?;
    Ok(report.exit_code())
}

pub(crate) fn verify(dir: &Path) -> Result<u8> {
    let m = certify::verify(dir)?;
    let specs: Vec<String> = m
        .specs
        .iter()
        .map(|s| format!("{} ({} files)", s.name, s.files.len()))
        .collect();
    println!(
        "{}: verifies: dialtone {} ({}), {}, {} mode, verdict {} (exit {})",
        dir.display(),
        m.dialtone_version,
        m.dialtone_commit,
        specs.join(", "),
        m.mode,
        m.verdict,
        m.exit_code
    );
    Ok(exit::CLEAN)
}
