//! The Mediant KPI path grammar (§10 Performance Monitoring; digest §3 and EP-18…33):
//! the path after `/kpi` as a typed [`KpiPath`], and its canonical form by `Display`.
//!
//! The emulator reads KPI request paths with it (`kpi_tree.rs`, which serves `[data.kpi]`),
//! and the `kpi_path` fuzz target checks it.
//!
//! ```text
//! /kpi                                        the three trees (EP-18)
//! /kpi/interval                               interval discovery (EP-19)
//! /kpi/{current|history}                      applications (EP-20/21)
//!   /{app}                                    groups (EP-22/23)
//!   /{app}/{group}                            entities (EP-24/25)
//!   /{app}/{group}/{ent}                      entity indexes or PM list (EP-26/27)
//!   /{app}/{group}/{ent}/{member}             index (digits) or PM name (EP-28…31)
//!   /{app}/{group}/{ent}/{index}/{pm}         a PM of an indexed entity (EP-32/33)
//! ```
//!
//! Decisions applied: `kpi-interval-path-form` (the tree diagram's
//! `/kpi/interval/<num>/...` is not a path: anything below `interval` is refused),
//! `kpi-same-shape` (the fifth segment is an index when it is all digits, else a PM name),
//! `kpi-group-case` (segments are kept as written and compared case-sensitively;
//! [`KpiPath::same_ignoring_group_case`] is the lenient alternative). The `?interval=`
//! query is not part of the path. Segments are RFC 3986 unreserved characters
//! (`A-Z a-z 0-9 - . _ ~`), not `.` or `..`; no percent-decoding is done.

use std::fmt;

/// The real-time or the historical tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Current,
    History,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::Current => "current",
            View::History => "history",
        }
    }
}

/// The fifth level: an index of an indexed entity, or a PM of a singular one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// Digits, kept as written (`"0"`, `"12"`).
    Index(String),
    Pm(String),
}

/// Where in a KPI tree a path points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Applications,
    Groups {
        app: String,
    },
    Entities {
        app: String,
        group: String,
    },
    Entity {
        app: String,
        group: String,
        entity: String,
    },
    Member {
        app: String,
        group: String,
        entity: String,
        member: Member,
    },
    IndexedPm {
        app: String,
        group: String,
        entity: String,
        index: String,
        pm: String,
    },
}

/// A path under `/kpi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KpiPath {
    /// `/kpi` itself.
    Root,
    /// `/kpi/interval`.
    Intervals,
    Tree(View, Node),
}

/// Why a path is not a KPI path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KpiPathError {
    #[error("a KPI path starts with `/kpi`")]
    NotKpi,
    #[error("segment {0} is empty")]
    Empty(usize),
    #[error("segment {0} has characters outside A-Z a-z 0-9 - . _ ~")]
    BadChar(usize),
    #[error("segment {0} is `.` or `..`")]
    Dot(usize),
    #[error("unknown KPI tree `{0}` (current, history or interval)")]
    UnknownTree(String),
    #[error("/kpi/interval has no sub-paths (decision kpi-interval-path-form)")]
    IntervalPath,
    #[error("the index of an indexed entity is digits, got `{0}`")]
    BadIndex(String),
    #[error("KPI paths end at the PM: {0} segments is too many")]
    TooDeep(usize),
}

fn is_index(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl KpiPath {
    /// Parses a path that starts with `/kpi` (what follows the API's base path, e.g. the
    /// rest of `/api/v1/kpi/current/sbc`). No query string, no trailing slash.
    pub fn parse(path: &str) -> Result<KpiPath, KpiPathError> {
        let rest = path.strip_prefix("/kpi").ok_or(KpiPathError::NotKpi)?;
        if rest.is_empty() {
            return Ok(KpiPath::Root);
        }
        let rest = rest.strip_prefix('/').ok_or(KpiPathError::NotKpi)?;
        let segs: Vec<&str> = rest.split('/').collect();
        for (i, s) in segs.iter().enumerate() {
            let n = i + 1;
            if s.is_empty() {
                return Err(KpiPathError::Empty(n));
            }
            if !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            {
                return Err(KpiPathError::BadChar(n));
            }
            if *s == "." || *s == ".." {
                return Err(KpiPathError::Dot(n));
            }
        }
        let view = match segs[0] {
            "interval" if segs.len() == 1 => return Ok(KpiPath::Intervals),
            "interval" => return Err(KpiPathError::IntervalPath),
            "current" => View::Current,
            "history" => View::History,
            other => return Err(KpiPathError::UnknownTree(other.to_string())),
        };
        let s = |i: usize| segs[i].to_string();
        let node = match segs.len() {
            1 => Node::Applications,
            2 => Node::Groups { app: s(1) },
            3 => Node::Entities {
                app: s(1),
                group: s(2),
            },
            4 => Node::Entity {
                app: s(1),
                group: s(2),
                entity: s(3),
            },
            5 => Node::Member {
                app: s(1),
                group: s(2),
                entity: s(3),
                member: if is_index(segs[4]) {
                    Member::Index(s(4))
                } else {
                    Member::Pm(s(4))
                },
            },
            6 if is_index(segs[4]) => Node::IndexedPm {
                app: s(1),
                group: s(2),
                entity: s(3),
                index: s(4),
                pm: s(5),
            },
            6 => return Err(KpiPathError::BadIndex(s(4))),
            n => return Err(KpiPathError::TooDeep(n)),
        };
        Ok(KpiPath::Tree(view, node))
    }

    /// Equal when the group names differ only in ASCII case (the lenient alternative of
    /// decision `kpi-group-case`: `callstats` for `callStats`).
    pub fn same_ignoring_group_case(&self, other: &KpiPath) -> bool {
        let fold = |p: &KpiPath| {
            let mut p = p.clone();
            if let KpiPath::Tree(
                _,
                Node::Entities { group, .. }
                | Node::Entity { group, .. }
                | Node::Member { group, .. }
                | Node::IndexedPm { group, .. },
            ) = &mut p
            {
                group.make_ascii_lowercase();
            }
            p
        };
        fold(self) == fold(other)
    }
}

impl fmt::Display for KpiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("/kpi")?;
        let (view, node) = match self {
            KpiPath::Root => return Ok(()),
            KpiPath::Intervals => return f.write_str("/interval"),
            KpiPath::Tree(v, n) => (v, n),
        };
        write!(f, "/{}", view.as_str())?;
        match node {
            Node::Applications => Ok(()),
            Node::Groups { app } => write!(f, "/{app}"),
            Node::Entities { app, group } => write!(f, "/{app}/{group}"),
            Node::Entity { app, group, entity } => write!(f, "/{app}/{group}/{entity}"),
            Node::Member {
                app,
                group,
                entity,
                member,
            } => {
                let m = match member {
                    Member::Index(s) | Member::Pm(s) => s,
                };
                write!(f, "/{app}/{group}/{entity}/{m}")
            }
            Node::IndexedPm {
                app,
                group,
                entity,
                index,
                pm,
            } => write!(f, "/{app}/{group}/{entity}/{index}/{pm}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str) -> Node {
        match KpiPath::parse(path).unwrap() {
            KpiPath::Tree(_, n) => n,
            other => panic!("{path}: {other:?}"),
        }
    }

    /// The URLs of §10's examples (digest §3.4 and the EP table), without `/api/v1`.
    #[test]
    fn document_examples_parse_and_print_back() {
        for url in [
            "/kpi",
            "/kpi/interval",
            "/kpi/current",
            "/kpi/history",
            "/kpi/current/sbc",
            "/kpi/current/sbc/callStats",
            "/kpi/current/sbc/callstats",
            "/kpi/current/sbc/callStats/global",
            "/kpi/current/sbc/callStats/ipGroup",
            "/kpi/current/sbc/callStats/ipGroup/0",
            "/kpi/current/sbc/callStats/ipGroup/0/abnormalTerminatedCallsInTotal",
            "/kpi/current/sbc/callStats/global/busyCallsInTotal",
            "/kpi/history/sbc/callStats/global/noAnswerCallsInTotal",
        ] {
            let p = KpiPath::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(p.to_string(), url);
        }
        assert_eq!(KpiPath::parse("/kpi").unwrap(), KpiPath::Root);
        assert_eq!(KpiPath::parse("/kpi/interval").unwrap(), KpiPath::Intervals);
    }

    #[test]
    fn the_fifth_segment_is_an_index_or_a_pm() {
        assert!(matches!(
            node("/kpi/current/sbc/callStats/ipGroup/0"),
            Node::Member { member: Member::Index(i), .. } if i == "0"
        ));
        assert!(matches!(
            node("/kpi/current/sbc/callStats/global/busyCallsInTotal"),
            Node::Member { member: Member::Pm(p), .. } if p == "busyCallsInTotal"
        ));
        assert_eq!(
            KpiPath::parse("/kpi/current/sbc/callStats/ipGroup/x/busyCallsInTotal"),
            Err(KpiPathError::BadIndex("x".into()))
        );
    }

    #[test]
    fn refused_paths() {
        for (path, want) in [
            ("/kpi/interval/2/sbc", KpiPathError::IntervalPath),
            ("/kpi/current/", KpiPathError::Empty(2)),
            ("/kpi/live", KpiPathError::UnknownTree("live".into())),
            ("/kpi/Current", KpiPathError::UnknownTree("Current".into())),
            ("/kpix", KpiPathError::NotKpi),
            ("/alarms", KpiPathError::NotKpi),
            ("/kpi/current/sbc/..", KpiPathError::Dot(3)),
            ("/kpi/current/sb%63", KpiPathError::BadChar(2)),
            ("/kpi/current/a/b/c/1/d/e", KpiPathError::TooDeep(7)),
        ] {
            assert_eq!(KpiPath::parse(path), Err(want), "{path}");
        }
    }

    #[test]
    fn group_case_is_significant_unless_lenient() {
        let a = KpiPath::parse("/kpi/current/sbc/callStats/ipGroup").unwrap();
        let b = KpiPath::parse("/kpi/current/sbc/callstats/ipGroup").unwrap();
        assert_ne!(a, b);
        assert!(a.same_ignoring_group_case(&b));
        assert_eq!(a.to_string(), "/kpi/current/sbc/callStats/ipGroup");
        let c = KpiPath::parse("/kpi/current/SBC/callstats/ipGroup").unwrap();
        assert!(!a.same_ignoring_group_case(&c));
    }
}
