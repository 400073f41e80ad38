//! Which documented operation a request reached: the request's path against the spec's
//! route table, the most literal match first.

use crate::spec::model::{Endpoint, Operation};
use crate::spec::routes::RouteTable;
use crate::spec::Spec;

/// The spec's route table ([`RouteTable`], shared with the emulator), built once per run.
#[derive(Debug, Clone, Default)]
pub struct Router {
    table: RouteTable,
}

impl Router {
    pub fn new(spec: &Spec) -> Router {
        Router {
            table: RouteTable::new(spec),
        }
    }

    /// The endpoint a request target (`/path?query` or a full URL) reaches.
    pub fn endpoint<'s>(&self, spec: &'s Spec, target: &str) -> Option<&'s Endpoint> {
        let path = path_of(target);
        // As a URL parser sends it: `.` dropped, `..` removes the segment before it.
        let mut got: Vec<&str> = Vec::new();
        for s in segments(path) {
            match s.to_ascii_lowercase().as_str() {
                "." | "%2e" => {}
                ".." | ".%2e" | "%2e." | "%2e%2e" => {
                    got.pop();
                }
                _ => got.push(s),
            }
        }
        self.table.lookup(spec, &got).map(|(ep, _)| ep)
    }

    /// The operation a request (`method`, target) reaches; `HEAD` reaches `GET`.
    pub fn operation<'s>(
        &self,
        spec: &'s Spec,
        method: &str,
        target: &str,
    ) -> Option<&'s Operation> {
        self.reach(spec, method, target).map(|(_, op)| op)
    }

    /// The endpoint and operation a request reaches.
    pub fn reach<'s>(
        &self,
        spec: &'s Spec,
        method: &str,
        target: &str,
    ) -> Option<(&'s Endpoint, &'s Operation)> {
        let m = if method.eq_ignore_ascii_case("HEAD") {
            "GET"
        } else {
            method
        };
        let ep = self.endpoint(spec, target)?;
        Some((ep, ep.operation(m)?))
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
        // Dot segments resolve as the client resolves them before sending.
        let ep = r.endpoint(&spec, "/api/v1/alarms/active/7/..").unwrap();
        assert_eq!(ep.id.get_ref(), "alarms/active");
    }

    fn dialtone_spec() -> Spec {
        crate::spec::load(&crate::spec::resolve("mediant")).expect("bundled spec")
    }
}
