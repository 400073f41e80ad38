//! Evidence bundles (`dialtone certify`): one directory a lab can hand over, and a
//! `.tar.gz` of it, holding the reports, a manifest of what produced them, the baseline in
//! force, and a SHA-256 of every file; and the check of such a bundle (`certify verify`).
//!
//! The manifest records the tool (version, commit), the specs with a SHA-256 of every spec
//! file, the decisions in force, the mode, the allowed safety classes, the seed, the start
//! and end times, the target URL and the profile with every secret removed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runner::RunReport;
use crate::spec::Spec;

/// The manifest's schema name.
pub const MANIFEST_SCHEMA: &str = "dialtone-certify/1";
/// The file of hashes, one `<sha256>  <path>` line per file (as `sha256sum` writes it).
pub const SUMS: &str = "SHA256SUMS";

/// Why a bundle could not be written or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Bad { path: PathBuf, what: String },
    #[error("the bundle {} does not verify:\n  {}", dir.display(), problems.join("\n  "))]
    Mismatch { dir: PathBuf, problems: Vec<String> },
}

fn io<'p>(path: &'p Path, what: &'static str) -> impl FnOnce(std::io::Error) -> CertifyError + 'p {
    move |source| CertifyError::Io {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// One spec of the run, with its files' hashes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpecRecord {
    pub name: String,
    pub version: String,
    /// Where the spec was read from, as given to the run.
    pub path: String,
    /// Spec file (as read) → SHA-256.
    pub files: BTreeMap<String, String>,
    /// Decision id → the reading the spec takes.
    pub decisions: BTreeMap<String, String>,
}

/// One product overlay of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OverlayRecord {
    pub name: String,
    pub spec: String,
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// The overlay file as given to the run.
    pub path: String,
    pub sha256: String,
    /// Its copy in the bundle.
    pub copy: String,
    pub deviations: usize,
    /// Tests the overlay changed, and tests of the document it took away.
    pub tests_changed: usize,
    pub tests_removed: usize,
}

/// What produced a bundle's reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub schema: String,
    pub dialtone_version: String,
    pub dialtone_commit: String,
    pub specs: Vec<SpecRecord>,
    pub mode: String,
    pub allow: Vec<String>,
    pub seed: u64,
    pub cases: u32,
    pub started_unix: u64,
    pub finished_unix: u64,
    pub target: String,
    pub emulator: bool,
    /// The target profile with every secret removed (`None` against the emulator).
    pub profile: Option<String>,
    /// The baseline in force, copied into the bundle as `baseline.toml`.
    pub baseline: Option<String>,
    /// Product overlays in force, each copied into the bundle.
    #[serde(default)]
    pub overlays: Vec<OverlayRecord>,
    pub verdict: String,
    pub exit_code: u8,
}

/// What the bundle is made from besides the report.
pub struct Inputs<'a> {
    pub specs: &'a [(PathBuf, &'a Spec)],
    pub profile: Option<String>,
    pub baseline: Option<&'a Path>,
}

pub use crate::codec::sha256;

fn hash_file(path: &Path) -> Result<String, CertifyError> {
    let bytes = std::fs::read(path).map_err(io(path, "cannot read"))?;
    Ok(sha256(&bytes))
}

/// A profile's TOML with every secret value replaced (`password`, `token`, `secret`).
pub fn redact_profile(toml_text: &str) -> String {
    toml_text
        .lines()
        .map(|l| {
            let key = l.split('=').next().unwrap_or("").trim();
            if l.contains('=') && ["password", "token", "secret"].contains(&key) {
                format!("{key} = \"<redacted>\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn spec_record(path: &Path, spec: &Spec) -> Result<SpecRecord, CertifyError> {
    let files = crate::spec::load::spec_files(path).map_err(io(path, "cannot list the spec"))?;
    let mut hashes = BTreeMap::new();
    for f in files {
        hashes.insert(f.display().to_string(), hash_file(&f)?);
    }
    Ok(SpecRecord {
        name: spec.name().to_string(),
        version: spec.api().version.clone(),
        path: path.display().to_string(),
        files: hashes,
        decisions: spec
            .decisions()
            .map(|d| (d.id.get_ref().clone(), d.choice.clone()))
            .collect(),
    })
}

/// Write the bundle into `dir` (created; it must be empty or absent) and `dir.tar.gz`
/// beside it; returns the archive's path.
pub fn write_bundle(
    dir: &Path,
    report: &RunReport,
    inputs: &Inputs,
    finished_unix: u64,
) -> Result<PathBuf, CertifyError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(io(dir, "cannot read"))?
            .next()
            .is_some()
    {
        return Err(CertifyError::Bad {
            path: dir.to_path_buf(),
            what: "the bundle directory is not empty; give a new one".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(io(dir, "cannot create the bundle directory"))?;
    let p = |name: &str| dir.join(name);
    crate::report::json::write(report, &p("report.json")).map_err(bad(dir))?;
    crate::report::junit::write(report, &p("report.junit.xml")).map_err(bad(dir))?;
    crate::report::html::write(report, &p("report.html")).map_err(bad(dir))?;
    if let Some(b) = inputs.baseline {
        std::fs::copy(b, p("baseline.toml")).map_err(io(b, "cannot copy the baseline"))?;
    }
    let mut specs = Vec::new();
    let mut overlays = Vec::new();
    for (path, spec) in inputs.specs {
        specs.push(spec_record(path, spec)?);
        for o in &spec.overlays {
            let copy = format!("overlay-{}.toml", o.meta.name);
            std::fs::copy(&o.path, p(&copy)).map_err(io(&o.path, "cannot copy the overlay"))?;
            overlays.push(OverlayRecord {
                name: o.meta.name.clone(),
                spec: o.meta.spec.clone(),
                product: o.meta.product.clone(),
                firmware: o.meta.firmware.clone(),
                path: o.path.display().to_string(),
                sha256: o.sha256.clone(),
                copy,
                deviations: o.deviations.len(),
                tests_changed: spec.changes.changed.len(),
                tests_removed: spec.changes.removed.len(),
            });
        }
    }
    let info = &report.info;
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA.into(),
        dialtone_version: env!("CARGO_PKG_VERSION").into(),
        dialtone_commit: env!("DIALTONE_COMMIT").into(),
        specs,
        mode: info.mode.clone(),
        allow: info.allow.clone(),
        seed: info.seed,
        cases: info.cases,
        started_unix: info.started_unix,
        finished_unix,
        target: info.target.clone(),
        emulator: info.emulator,
        profile: inputs.profile.as_deref().map(redact_profile),
        baseline: inputs.baseline.map(|b| b.display().to_string()),
        verdict: match (report.exit_code(), overlays.is_empty()) {
            (crate::exit::CLEAN, true) => "conformant",
            (crate::exit::CLEAN, false) => "conformant under product overlays",
            (crate::exit::FOUND, _) => "non-conformant",
            _ => "undecided",
        }
        .into(),
        overlays,
        exit_code: report.exit_code(),
    };
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    std::fs::write(p("manifest.json"), text).map_err(io(dir, "cannot write the manifest"))?;
    let mut sums = String::new();
    for name in bundle_files(dir)? {
        sums.push_str(&format!("{}  {name}\n", hash_file(&dir.join(&name))?));
    }
    std::fs::write(p(SUMS), sums).map_err(io(dir, "cannot write the hashes"))?;
    archive(dir)
}

fn bad(dir: &Path) -> impl FnOnce(crate::report::ReportError) -> CertifyError + '_ {
    move |e| CertifyError::Bad {
        path: dir.to_path_buf(),
        what: e.to_string(),
    }
}

/// The bundle's files but the hash list, by name.
fn bundle_files(dir: &Path) -> Result<Vec<String>, CertifyError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir, "cannot read the bundle"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != SUMS)
        .collect();
    names.sort();
    Ok(names)
}

/// `dir.tar.gz` beside `dir`, holding `dir/` and its files.
fn archive(dir: &Path) -> Result<PathBuf, CertifyError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let out = dir.with_file_name(format!("{name}.tar.gz"));
    let file = std::fs::File::create(&out).map_err(io(&out, "cannot create the archive"))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(&name, dir)
        .map_err(io(&out, "cannot write the archive"))?;
    let gz = tar
        .into_inner()
        .map_err(io(&out, "cannot write the archive"))?;
    let mut file = gz.finish().map_err(io(&out, "cannot write the archive"))?;
    file.flush().map_err(io(&out, "cannot write the archive"))?;
    Ok(out)
}

/// Check a bundle: every file listed with the hash it had, nothing added or missing, and
/// every spec file the manifest names still hashing the same. Returns the manifest.
pub fn verify(dir: &Path) -> Result<Manifest, CertifyError> {
    let sums_path = dir.join(SUMS);
    let sums =
        std::fs::read_to_string(&sums_path).map_err(io(&sums_path, "cannot read the hashes"))?;
    let mut problems = Vec::new();
    let mut listed = Vec::new();
    for (n, line) in sums.lines().enumerate() {
        let Some((hash, name)) = line.split_once("  ") else {
            problems.push(format!("{SUMS}:{}: not `<sha256>  <file>`", n + 1));
            continue;
        };
        listed.push(name.to_string());
        match hash_file(&dir.join(name)) {
            Ok(h) if h == hash => {}
            Ok(h) => problems.push(format!("{name}: SHA-256 {h}, the bundle lists {hash}")),
            Err(_) => problems.push(format!("{name}: listed but missing")),
        }
    }
    for name in bundle_files(dir)? {
        if !listed.contains(&name) {
            problems.push(format!("{name}: not listed in {SUMS}"));
        }
    }
    let manifest_path = dir.join("manifest.json");
    let manifest: Option<Manifest> = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match &manifest {
        None => problems.push("manifest.json: missing or not a dialtone manifest".into()),
        Some(m) => {
            for o in &m.overlays {
                match hash_file(Path::new(&o.path)) {
                    Ok(h) if h == o.sha256 => {}
                    Ok(_) => problems.push(format!(
                        "overlay file {} has changed since the run (overlay `{}`)",
                        o.path, o.name
                    )),
                    Err(_) => problems.push(format!("overlay file {} cannot be read", o.path)),
                }
            }
            for s in &m.specs {
                for (file, hash) in &s.files {
                    match hash_file(Path::new(file)) {
                        Ok(h) if h == *hash => {}
                        Ok(_) => problems.push(format!(
                            "spec file {file} has changed since the run (spec `{}`)",
                            s.name
                        )),
                        Err(_) => problems.push(format!("spec file {file} cannot be read")),
                    }
                }
            }
        }
    }
    match manifest {
        Some(m) if problems.is_empty() => Ok(m),
        _ => Err(CertifyError::Mismatch {
            dir: dir.to_path_buf(),
            problems,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_the_standard_one() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn profiles_lose_their_secrets() {
        let t = "[accounts.admin]\nuser = \"a\"\npassword = \"hunter2\"\n[accounts.t]\ntoken = \"abc\"\npassword_env = \"X\"";
        let r = redact_profile(t);
        assert!(!r.contains("hunter2") && !r.contains("\"abc\""), "{r}");
        assert!(
            r.contains("password_env = \"X\"") && r.contains("user = \"a\""),
            "{r}"
        );
    }
}
