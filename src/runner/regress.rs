//! Stored failing property cases: each failure of a property or stateful test is written
//! as a small TOML file (the test, the seed and case count that reproduce it, the message
//! and the requests), and every later run replays the stored ones first, as tests of their
//! own (`<test id>/regression-<seed>`). A file stays until someone deletes it: a fixed
//! failure keeps guarding against its return.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::result::TestResult;

/// One stored failure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Regression {
    /// The failing test's id.
    pub test: String,
    /// The run's seed and case count: `--seed` and `--cases` with these replay the case.
    pub seed: u64,
    pub cases: u32,
    /// When it was found, seconds since the Unix epoch.
    pub found_unix: u64,
    /// The failure as reported (credentials redacted).
    pub message: String,
    /// `curl` commands of the failing requests (credentials as `$DIALTONE_…` variables).
    #[serde(default)]
    pub reproduce: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The file a failure of `test` with `seed` is stored in, under `dir`.
pub fn file_for(dir: &Path, test: &str, seed: u64) -> PathBuf {
    let safe: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}-{seed}.toml"))
}

/// Store a failing result; returns the file written.
pub fn save(dir: &Path, r: &TestResult, seed: u64, cases: u32) -> Result<PathBuf, RegressError> {
    let path = file_for(dir, &r.id, seed);
    let io = |source| RegressError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let reg = Regression {
        test: r.id.clone(),
        seed,
        cases,
        found_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        message: r.message.clone().unwrap_or_default(),
        reproduce: r.exchanges.iter().map(|e| e.curl.clone()).collect(),
    };
    let text = format!(
        "# A failing property case found by dialtone; `dialtone run` replays it first.\n\
         # Delete this file once the failure no longer matters.\n{}",
        toml::to_string(&reg).map_err(|e| RegressError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?
    );
    std::fs::write(&path, text).map_err(io)?;
    Ok(path)
}

/// Every stored failure under `dir` (none when it does not exist), in file-name order.
pub fn load(dir: &Path) -> Result<Vec<Regression>, RegressError> {
    if !dir.is_dir() {
        return Ok(vec![]);
    }
    let rd = std::fs::read_dir(dir).map_err(|source| RegressError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| RegressError::Io {
            path: path.clone(),
            source,
        })?;
        let reg: Regression = toml::from_str(&text).map_err(|e| RegressError::Parse {
            path: path.clone(),
            message: e.to_string().trim().to_string(),
        })?;
        out.push(reg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load() {
        let dir = std::env::temp_dir().join(format!("dialtone-regress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = TestResult {
            id: "a/b/property/stateful".into(),
            rule: "a/b/property/stateful".into(),
            kind: "behaviour".into(),
            api: "a".into(),
            level: "must".into(),
            safety: "write".into(),
            source: "inferred".into(),
            summary: String::new(),
            verdict: crate::runner::Verdict::Fail,
            message: Some("step 1 broke".into()),
            expected: None,
            actual: None,
            note: None,
            findings: Vec::new(),
            known: None,
            deviations: Vec::new(),
            exchanges: vec![],
            duration_ms: 0.0,
        };
        let p = save(&dir, &r, 42, 16).unwrap();
        assert!(p.ends_with("a_b_property_stateful-42.toml"));
        let all = load(&dir).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].test, "a/b/property/stateful");
        assert_eq!((all[0].seed, all[0].cases), (42, 16));
        assert_eq!(all[0].message, "step 1 broke");
        std::fs::write(dir.join("bad.toml"), "test = 1\n").unwrap();
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("bad.toml"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(load(&dir).unwrap().is_empty());
    }
}
