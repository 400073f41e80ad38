//! Routing: each API's route table, built once from the spec's endpoint templates (and
//! their aliases), and the matching of a request path against it, after the API is chosen
//! by the longest base path. Query strings and path segments are percent-decoded here.

use crate::emulator::{ApiEmu, Emulator};
use crate::spec::model::Endpoint;
use crate::spec::routes::RouteTable;
use crate::spec::Spec;

/// The routes and base paths of one API.
pub(in crate::emulator) struct Routes {
    table: RouteTable,
    /// Base paths, longest first.
    bases: Vec<String>,
}

impl Routes {
    pub(in crate::emulator) fn new(spec: &Spec) -> Routes {
        let mut bases: Vec<String> = spec
            .api()
            .bases
            .values()
            .map(|b| b.trim_end_matches('/').to_string())
            .collect();
        bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
        Routes {
            table: RouteTable::new(spec),
            bases,
        }
    }
}

/// An endpoint matched by a request path, with the path's parameters.
pub(super) type Routed<'a> = Option<(&'a Endpoint, Vec<(String, String)>)>;

/// The API a request path belongs to, with the endpoint it matches there: of the APIs with
/// a base the path falls under, the one with the longest base that has an endpoint for the
/// path; with none, the longest base (which answers its own "not found"). Two APIs may
/// share a base (Mediant's root and the roaming-profile API both serve `/api`), so the
/// base alone cannot decide. Each candidate's routes are matched once.
pub(super) fn api_for_path<'a>(emu: &'a Emulator, path: &str) -> Option<(&'a ApiEmu, Routed<'a>)> {
    let mut hits: Vec<(&ApiEmu, usize)> = Vec::new();
    for a in &emu.apis {
        let longest = a
            .routes
            .bases
            .iter()
            .filter(|b| {
                b.is_empty()
                    || path == b.as_str()
                    || (path.starts_with(b.as_str()) && path.as_bytes().get(b.len()) == Some(&b'/'))
            })
            .map(String::len)
            .max();
        if let Some(l) = longest {
            hits.push((a, l));
        }
    }
    // Longest base first; among equals, the order the APIs were given in.
    hits.sort_by_key(|(_, l)| std::cmp::Reverse(*l));
    for (a, _) in &hits {
        if let Some(routed) = match_route(a, path) {
            return Some((a, Some(routed)));
        }
    }
    match (hits.first(), emu.apis.as_slice()) {
        // Every candidate was tried above: none has an endpoint for the path.
        (Some((a, _)), _) => Some((a, None)),
        // One API answers every path, under its bases or not.
        (None, [only]) => Some((only, match_route(only, path))),
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

pub(super) fn match_route<'a>(api: &'a ApiEmu, path: &str) -> Routed<'a> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match_segments(api, &segs).or_else(|| {
        // `/x/` where `/x/{param}` is documented and the parameter says what an empty
        // value gets (`empty`): routed, and answered that outcome by the engine.
        let mut with_empty = segs.clone();
        with_empty.push("");
        let routed = path
            .ends_with('/')
            .then(|| match_segments(api, &with_empty))
            .flatten()?;
        let (ep, params) = &routed;
        let (name, v) = params.last()?;
        let declared = ep
            .params
            .get(name)
            .is_some_and(|p| p.spec().empty.is_some());
        (v.is_empty() && declared).then_some(routed)
    })
}

fn match_segments<'a>(api: &'a ApiEmu, segs: &[&str]) -> Routed<'a> {
    let (ep, params) = api.routes.table.lookup(&api.spec, segs)?;
    let params = params
        .into_iter()
        .map(|(k, v)| (k, percent_decode(&v)))
        .collect();
    Some((ep, params))
}
