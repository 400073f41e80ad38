//! Which endpoint a request path names: every endpoint's full template (and its aliases)
//! as segments, literal segments before parameters. The emulator routes requests with it
//! and the response oracle finds the operation an answer belongs to; both read the same
//! table, so they cannot disagree on what a path means.

use super::model::Endpoint;
use super::Spec;

/// A path template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    Param(String),
    /// A last parameter that takes the rest of the path, slashes included: one whose
    /// example holds a `/` (sipXconfig's setting paths).
    Rest(String),
}

#[derive(Debug, Clone)]
struct Route {
    endpoint: usize,
    segs: Vec<Seg>,
}

/// The route table of one spec.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Sorted so that literal segments win over parameters at the first place two routes
    /// differ.
    routes: Vec<Route>,
    /// For each number of path segments, the routes (positions in `routes`, in order) that
    /// can match that many; the last entry serves every longer path.
    by_len: Vec<Vec<usize>>,
}

impl RouteTable {
    pub fn new(spec: &Spec) -> RouteTable {
        let mut routes = Vec::new();
        for (i, ep) in spec.endpoints().enumerate() {
            let mut templates = vec![spec.full_path(ep)];
            let base = spec.base_of(ep).trim_end_matches('/').to_string();
            templates.extend(ep.aliases.iter().map(|a| format!("{base}{a}")));
            for t in templates {
                let mut segs = parse_template(&t);
                if let Some(Seg::Param(p)) = segs.last().cloned() {
                    let multi = ep.params.get(&p).is_some_and(|x| {
                        x.spec()
                            .example
                            .as_ref()
                            .and_then(|e| e.as_str().map(|s| s.contains('/')))
                            .unwrap_or(false)
                    });
                    if multi {
                        *segs.last_mut().expect("non-empty") = Seg::Rest(p);
                    }
                }
                routes.push(Route { endpoint: i, segs });
            }
        }
        routes.sort_by_key(|r| std::cmp::Reverse(specificity(&r.segs)));
        let longest = routes.iter().map(|r| r.segs.len()).max().unwrap_or(0);
        let by_len = (0..=longest + 1)
            .map(|n| (0..routes.len()).filter(|&i| routes[i].fits(n)).collect())
            .collect();
        RouteTable { routes, by_len }
    }

    /// The endpoint the path `segs` (split at `/`, still percent-encoded) names, with its
    /// parameters as they appear in the path (a rest parameter's segments joined by `/`).
    pub fn lookup<'s>(
        &self,
        spec: &'s Spec,
        segs: &[&str],
    ) -> Option<(&'s Endpoint, Vec<(String, String)>)> {
        let n = segs.len().min(self.by_len.len().saturating_sub(1));
        let candidates = self.by_len.get(n).map(Vec::as_slice).unwrap_or(&[]);
        'routes: for r in candidates.iter().map(|&i| &self.routes[i]) {
            if !r.fits(segs.len()) {
                continue;
            }
            // The literals first, so that a route that does not match costs no copies.
            for (t, s) in r.segs.iter().zip(segs) {
                if let Seg::Lit(l) = t {
                    if l != s {
                        continue 'routes;
                    }
                }
            }
            let params = r
                .segs
                .iter()
                .enumerate()
                .filter_map(|(i, t)| match t {
                    Seg::Lit(_) => None,
                    Seg::Param(p) => Some((p.clone(), segs[i].to_string())),
                    Seg::Rest(p) => Some((p.clone(), segs[i..].join("/"))),
                })
                .collect();
            return spec.endpoint_at(r.endpoint).map(|ep| (ep, params));
        }
        None
    }
}

impl Route {
    /// Whether a path of `n` segments can match: as many as the template has, or at
    /// least as many when its last parameter takes the rest of the path.
    fn fits(&self, n: usize) -> bool {
        let rest = matches!(self.segs.last(), Some(Seg::Rest(_)));
        self.segs.len() == n || (rest && n >= self.segs.len())
    }
}

fn parse_template(t: &str) -> Vec<Seg> {
    t.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Seg::Param(s[1..s.len() - 1].to_string())
            } else {
                Seg::Lit(s.to_string())
            }
        })
        .collect()
}

fn specificity(segs: &[Seg]) -> Vec<u8> {
    segs.iter()
        .map(|s| match s {
            Seg::Lit(_) => 2,
            Seg::Param(_) => 1,
            Seg::Rest(_) => 0,
        })
        .collect()
}
