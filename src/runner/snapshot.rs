//! Response snapshots: a read's answer, normalised, compared with a recorded baseline.
//!
//! A snapshot is the status, the content type and the body of one `GET` (the plan's
//! [`crate::plan::snapshots`] entries). Structured bodies are parsed into a tree and printed
//! as sorted, pretty JSON, so key order and XML whitespace never count as drift; the values
//! of the spec's `[[volatile]]` fields become `[volatile:<name>]`; the target's own base URL
//! becomes `{target}`. Files use insta's `.snap` layout (a `---` header, then the text), so
//! `cargo insta review` reads the committed emulator snapshots and `dialtone snapshot review`
//! reads any directory of them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::http::Resp;
use super::outcome;
use crate::spec::Spec;

/// Where snapshots live, and whether this run records them or compares with them.
#[derive(Debug, Clone)]
pub struct Snapshots {
    pub dir: PathBuf,
    /// Write the answers as the new baseline instead of comparing.
    pub record: bool,
}

/// Why a snapshot file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a snapshot file (no `---` header)")]
    Format { path: PathBuf },
}

/// The file of a snapshot test id (`<api>/<endpoint>/snapshot/GET`), relative to the
/// snapshot directory: `<api>/<endpoint>__GET.snap`.
pub fn relative_path(test_id: &str) -> PathBuf {
    let mut parts = test_id.split('/');
    let api = parts.next().unwrap_or("api");
    let rest: Vec<&str> = parts.filter(|p| *p != "snapshot").collect();
    PathBuf::from(api).join(format!("{}.snap", rest.join("__")))
}

/// The snapshot name insta uses for a test id (the file stem).
pub fn name(test_id: &str) -> String {
    relative_path(test_id)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The normalised text of an answer from `endpoint`.
pub fn normalize(spec: &Spec, endpoint: &str, base_url: &str, resp: &Resp) -> String {
    let ct = outcome::essence(resp.content_type());
    let base = base_url.trim_end_matches('/');
    let fix = |s: &str| {
        if base.is_empty() {
            s.to_string()
        } else {
            s.replace(base, "{target}")
        }
    };
    let body = if resp.body.is_empty() {
        "(empty)".to_string()
    } else {
        match outcome::parse(resp) {
            Ok(mut tree) => {
                redact(spec, endpoint, &mut tree);
                let tree = sorted(&tree);
                fix(&serde_json::to_string_pretty(&tree).unwrap_or_default())
            }
            Err(_) => match std::str::from_utf8(&resp.body) {
                Ok(t) => fix(t.trim_end()),
                Err(_) => format!("({} bytes, not text)", resp.body.len()),
            },
        }
    };
    format!(
        "status: {}\ncontent-type: {}\n\n{}\n",
        resp.status,
        if ct.is_empty() { "(none)" } else { &ct },
        body
    )
}

/// Replace the values of the spec's volatile fields that apply to `endpoint`: the
/// `[[volatile]]` rules naming it (or every endpoint), and the schema fields marked
/// `volatile` in what its `GET` answers.
fn redact(spec: &Spec, endpoint: &str, v: &mut Value) {
    let mut rules: Vec<(&str, &str)> = spec
        .volatiles()
        .filter(|r| r.endpoints.is_empty() || r.endpoints.iter().any(|e| e.get_ref() == endpoint))
        .map(|r| (r.field.as_str(), r.name.get_ref().as_str()))
        .collect();
    let schema = spec
        .endpoint(endpoint)
        .and_then(|ep| ep.operation("GET"))
        .and_then(|op| op.response.as_ref())
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| spec.schema(s.get_ref()));
    let mut seen = Vec::new();
    if let Some(s) = schema {
        schema_volatiles(spec, s, &mut seen, &mut rules);
    }
    if rules.is_empty() {
        return;
    }
    fn walk(v: &mut Value, rules: &[(&str, &str)]) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if let Some((_, name)) = rules.iter().find(|(f, _)| f == k) {
                        *x = Value::String(format!("[volatile:{name}]"));
                    } else {
                        walk(x, rules);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, rules)),
            _ => {}
        }
    }
    walk(v, &rules);
}

/// Fields marked `volatile` in `schema` and the schemas its fields nest, as rules named
/// after the field.
fn schema_volatiles<'s>(
    spec: &'s Spec,
    schema: &'s crate::spec::model::Schema,
    seen: &mut Vec<&'s str>,
    out: &mut Vec<(&'s str, &'s str)>,
) {
    if seen.contains(&schema.name.get_ref().as_str()) {
        return;
    }
    seen.push(schema.name.get_ref());
    for f in &schema.field {
        if f.volatile {
            out.push((f.name.get_ref(), f.name.get_ref()));
        }
        if let Some(sub) = f.schema.as_ref().and_then(|n| spec.schema(n.get_ref())) {
            schema_volatiles(spec, sub, seen, out);
        }
    }
}

/// Objects with their members in name order (the key order of an answer is not data).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        x => x.clone(),
    }
}

/// The text of a snapshot file (what follows its header), or `None` if there is none.
pub fn read(path: &Path) -> Result<Option<String>, SnapshotError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SnapshotError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let Some(rest) = text.strip_prefix("---\n") else {
        return Err(SnapshotError::Format {
            path: path.to_path_buf(),
        });
    };
    let Some(end) = rest.find("\n---\n") else {
        return Err(SnapshotError::Format {
            path: path.to_path_buf(),
        });
    };
    Ok(Some(rest[end + 5..].to_string()))
}

/// Write a snapshot file in insta's layout.
pub fn write(path: &Path, test_id: &str, text: &str) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let body = format!(
        "---\nsource: dialtone snapshot\nexpression: \"{}\"\n---\n{}",
        test_id.replace('"', "'"),
        text
    );
    std::fs::write(path, body).map_err(io)
}

/// Whether two snapshot texts are the same (insta ignores trailing whitespace too).
pub fn same(a: &str, b: &str) -> bool {
    a.trim_end() == b.trim_end()
}

/// A unified diff from the baseline to the new answer, for people.
pub fn diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old.trim_end(), new.trim_end())
        .unified_diff()
        .context_radius(3)
        .header("baseline", "now")
        .to_string()
}

/// Pending changes under `dir`: every `.snap.new` with the `.snap` it would replace.
pub fn pending(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, SnapshotError> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), SnapshotError> {
        let rd = std::fs::read_dir(d).map_err(|source| SnapshotError::Io {
            path: d.to_path_buf(),
            source,
        })?;
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.to_string_lossy().ends_with(".snap.new") {
                let s = p.to_string_lossy();
                let old = PathBuf::from(&s[..s.len() - 4]);
                out.push((p, old));
            }
        }
        Ok(())
    }
    walk(dir, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_mirror_ids() {
        assert_eq!(
            relative_path("rome/commands/snapshot/GET"),
            PathBuf::from("rome/commands__GET.snap")
        );
        assert_eq!(name("rome/commands/snapshot/GET"), "commands__GET");
    }

    #[test]
    fn round_trip_and_diff() {
        let dir = std::env::temp_dir().join(format!("dialtone-snap-{}", std::process::id()));
        let p = dir.join("a/b__GET.snap");
        write(&p, "a/b/snapshot/GET", "status: 200\n\nx\n").unwrap();
        assert_eq!(read(&p).unwrap().as_deref(), Some("status: 200\n\nx\n"));
        assert!(read(&dir.join("missing.snap")).unwrap().is_none());
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b") && d.contains("+B"), "{d}");
        assert!(same("x\n", "x"));
        assert!(!same("x", "y"));
        std::fs::write(dir.join("a/b__GET.snap.new"), "---\nx\n---\ny").unwrap();
        let p2 = pending(&dir).unwrap();
        assert_eq!(p2.len(), 1);
        assert!(p2[0].1.ends_with("a/b__GET.snap"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
