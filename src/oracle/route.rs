//! Which documented operation a request reached: the request's path against every
//! endpoint's full template, the most literal match first.

use crate::spec::model::{Endpoint, Operation};
use crate::spec::Spec;

/// The endpoints of one spec as segment templates, built once per run.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// (endpoint index, segments: `None` for a `{param}`), most literal first.
    routes: Vec<(usize, Vec<Option<String>>)>,
}

impl Router {
    pub fn new(spec: &Spec) -> Router {
        let mut routes: Vec<(usize, Vec<Option<String>>)> = spec
            .endpoints()
            .enumerate()
            .map(|(i, ep)| {
                let segs = segments(&spec.full_path(ep))
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                    .collect();
                (i, segs)
            })
            .collect();
        // Literal segments outrank parameters, position by position.
        routes.sort_by_key(|(i, segs)| (segs.iter().map(|s| s.is_none()).collect::<Vec<_>>(), *i));
        Router { routes }
    }

    /// The endpoint a request target (`/path?query` or a full URL) reaches.
    pub fn endpoint<'s>(&self, spec: &'s Spec, target: &str) -> Option<&'s Endpoint> {
        let path = path_of(target);
        let got: Vec<&str> = segments(path).collect();
        self.routes
            .iter()
            .find(|(_, segs)| {
                segs.len() == got.len()
                    && segs.iter().zip(&got).all(|(s, g)| match s {
                        Some(lit) => lit == g,
                        None => !g.is_empty(),
                    })
            })
            .and_then(|(i, _)| spec.endpoint_at(*i))
    }

    /// The operation a request (`method`, target) reaches; `HEAD` reaches `GET`.
    pub fn operation<'s>(
        &self,
        spec: &'s Spec,
        method: &str,
        target: &str,
    ) -> Option<&'s Operation> {
        let m = if method.eq_ignore_ascii_case("HEAD") {
            "GET"
        } else {
            method
        };
        self.endpoint(spec, target)?.operation(m)
    }
}

/// The path of a request target: no scheme, host or query.
fn path_of(target: &str) -> &str {
    let t = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => target,
    };
    t.split(['?', '#']).next().unwrap_or("")
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_lose_host_and_query() {
        assert_eq!(path_of("https://h:8/api/v1/x?y=1"), "/api/v1/x");
        assert_eq!(path_of("/api/v1/x?y=1"), "/api/v1/x");
    }

    #[test]
    fn the_most_literal_endpoint_wins() {
        let spec = dialtone_spec();
        let r = Router::new(&spec);
        let ep = r.endpoint(&spec, "/api/v1/alarms/active").unwrap();
        assert_eq!(ep.id.get_ref(), "alarms/active");
        let ep = r.endpoint(&spec, "/api/v1/alarms/active/7?x=1").unwrap();
        assert_eq!(ep.path.get_ref(), "/alarms/active/{id}");
        assert!(r.endpoint(&spec, "/api/v1/nothing/here/at/all").is_none());
    }

    fn dialtone_spec() -> Spec {
        crate::spec::load(&crate::spec::resolve("mediant")).expect("bundled spec")
    }
}
