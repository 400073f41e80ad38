//! Merging the JSON reports of one run's shards (`dialtone run --partition`) into the
//! report the unsharded run would have written: the same tests, verdicts, counts and exit
//! code. Reports of different runs are refused, each refusal naming the file and the field
//! that differs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::runner::{RunInfo, RunReport};

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{}: cannot read the report", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a dialtone run report", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no report to merge")]
    Empty,
    #[error(
        "{}: `{field}` is {theirs}, but {} has {ours}: these are not shards of one run",
        path.display(),
        first.display()
    )]
    Differs {
        path: PathBuf,
        first: PathBuf,
        field: &'static str,
        ours: String,
        theirs: String,
    },
    #[error("{}: `{field}` is {value}: {why}", path.display())]
    Partition {
        path: PathBuf,
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("test `{id}` is in both {} and {}: a test belongs to one shard", a.display(), b.display())]
    Duplicate { id: String, a: PathBuf, b: PathBuf },
}

/// Read one report.
pub fn read(path: &Path) -> Result<RunReport, MergeError> {
    let text = std::fs::read(path).map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| MergeError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// The fields every shard of one run shares, as text, by name. The target may differ: the
/// shards of a device pool each test their own device.
fn identity(i: &RunInfo) -> [(&'static str, String); 8] {
    [
        ("schema", i.schema.clone()),
        ("dialtone_version", i.dialtone_version.clone()),
        ("specs", i.specs.join(",")),
        ("seed", i.seed.to_string()),
        ("mode", i.mode.clone()),
        ("cases", i.cases.to_string()),
        ("allow", i.allow.join(",")),
        ("emulator", i.emulator.to_string()),
    ]
}

/// Merge `reports` (path, report): refuse different runs, a test in two shards, or two
/// reports of one shard; keep each shard's results in order, shards in the order given.
/// The merged report has no `partition`; its duration is the longest shard's (they ran
/// side by side), its request count the sum.
pub fn merge(reports: Vec<(PathBuf, RunReport)>) -> Result<RunReport, MergeError> {
    let mut it = reports.into_iter();
    let (first_path, first) = it.next().ok_or(MergeError::Empty)?;
    let want = identity(&first.info);
    let mut shards: HashMap<String, PathBuf> = HashMap::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    let mut merged = RunReport {
        info: first.info.clone(),
        results: Vec::new(),
        baseline: None,
        coverage: None,
        overlays: first.overlays.clone(),
    };
    merged.info.partition = None;
    merged.info.requests = 0;
    merged.info.duration_ms = 0.0;
    let mut n_of: Option<(String, PathBuf)> = None;
    let first_sharded = first.info.partition.is_some();
    let mut targets: Vec<String> = Vec::new();
    for (path, r) in std::iter::once((first_path.clone(), first)).chain(it) {
        for ((field, ours), (_, theirs)) in want.iter().zip(identity(&r.info)) {
            if *ours != theirs {
                return Err(MergeError::Differs {
                    path,
                    first: first_path,
                    field,
                    ours: ours.clone(),
                    theirs,
                });
            }
        }
        if r.overlays != merged.overlays {
            let names = |o: &[crate::runner::overlay::OverlayRecord]| {
                let n: Vec<String> = o
                    .iter()
                    .map(|o| format!("{} {}", o.name, o.sha256))
                    .collect();
                format!("[{}]", n.join(", "))
            };
            return Err(MergeError::Differs {
                path,
                first: first_path,
                field: "overlays",
                ours: names(&merged.overlays),
                theirs: names(&r.overlays),
            });
        }
        if r.info.partition.is_some() != first_sharded {
            return Err(MergeError::Partition {
                path,
                field: "partition",
                value: r.info.partition.unwrap_or_else(|| "absent".into()),
                why: format!(
                    "{} {} a shard; merge only the shards of one run",
                    first_path.display(),
                    if first_sharded { "is" } else { "is not" }
                ),
            });
        }
        if !targets.contains(&r.info.target) {
            targets.push(r.info.target.clone());
        }
        if let Some(p) = &r.info.partition {
            let n = p
                .rsplit_once('/')
                .map(|(_, n)| n.to_string())
                .unwrap_or_default();
            match &n_of {
                Some((m, _)) if *m != n => {
                    return Err(MergeError::Partition {
                        path,
                        field: "partition",
                        value: p.clone(),
                        why: format!("the other shards are of {m}"),
                    })
                }
                _ => n_of = Some((n, path.clone())),
            }
            if let Some(other) = shards.insert(p.clone(), path.clone()) {
                return Err(MergeError::Partition {
                    path,
                    field: "partition",
                    value: p.clone(),
                    why: format!("{} is the same shard", other.display()),
                });
            }
        }
        match (&mut merged.coverage, &r.coverage) {
            (Some(m), Some(c)) => m.merge(c),
            (None, Some(c)) => merged.coverage = Some(c.clone()),
            _ => {}
        }
        for t in r.results {
            if let Some(a) = seen.insert(t.id.clone(), path.clone()) {
                return Err(MergeError::Duplicate {
                    id: t.id,
                    a,
                    b: path,
                });
            }
            merged.results.push(t);
        }
        merged.info.duration_ms = merged.info.duration_ms.max(r.info.duration_ms);
        merged.info.started_unix = merged.info.started_unix.min(r.info.started_unix);
        merged.info.requests += r.info.requests;
    }
    merged.info.target = targets.join(", ");
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    /// The fixture report dealt into `n` shards by result index, each written and read
    /// back as JSON (the merge reads what `run --json` writes).
    fn shards(n: usize) -> Vec<(PathBuf, RunReport)> {
        let full = fixture::report();
        (0..n)
            .map(|k| {
                let mut r = full.clone();
                r.results = full
                    .results
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % n == k)
                    .map(|(_, t)| t.clone())
                    .collect();
                r.info.partition = Some(format!("count:{}/{n}", k + 1));
                r.info.requests = 3;
                let text = serde_json::to_vec(&r).unwrap();
                (
                    PathBuf::from(format!("s{k}.json")),
                    serde_json::from_slice(&text).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn shards_merge_into_the_unsharded_counts_and_exit_code() {
        let full = fixture::report();
        let merged = merge(shards(3)).unwrap();
        assert_eq!(merged.totals(), full.totals());
        assert_eq!(merged.exit_code(), full.exit_code());
        assert_eq!(merged.results.len(), full.results.len());
        assert_eq!(merged.info.requests, 9);
        assert_eq!(merged.info.partition, None);
    }

    #[test]
    fn reports_of_other_runs_are_refused_with_the_field_that_differs() {
        let mut s = shards(2);
        s[1].1.info.seed = 7;
        let e = merge(s).unwrap_err().to_string();
        assert!(
            e.contains("`seed`") && e.contains("s1.json") && e.contains("s0.json"),
            "{e}"
        );
        let mut s = shards(2);
        s[1].1.info.dialtone_version = "9.9.9".into();
        assert!(merge(s)
            .unwrap_err()
            .to_string()
            .contains("dialtone_version"));
        let mut s = shards(2);
        s[1].1.info.partition = Some("count:1/3".into());
        assert!(merge(s).unwrap_err().to_string().contains("count:1/3"));
    }

    #[test]
    fn a_shard_twice_or_a_test_in_two_shards_is_refused() {
        let mut s = shards(2);
        s[1] = s[0].clone();
        s[1].0 = PathBuf::from("again.json");
        let e = merge(s).unwrap_err().to_string();
        assert!(e.contains("same shard"), "{e}");
        let mut s = shards(2);
        let t = s[0].1.results[0].clone();
        s[1].1.results.push(t);
        let e = merge(s).unwrap_err().to_string();
        assert!(e.contains("in both"), "{e}");
        let mut s = shards(2);
        s[1].1.info.partition = None;
        assert!(merge(s).unwrap_err().to_string().contains("is a shard"));
    }
}
