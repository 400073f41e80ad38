//! The emulator answers exactly as its schemas say, in every format it documents: every
//! read of every bundled spec, asked for in each of its documented content types, passes
//! the response oracle with no finding at all (not even a note).

use axum::http::{header, HeaderValue};

use super::support::*;
use dialtone::oracle::{self, Answer as OracleAnswer, Mode, Router};
use dialtone::sample;

/// The families the oracle reads record by record.
fn structured(ct: &str) -> Option<&'static str> {
    ["json", "xml", "csv"].into_iter().find(|f| ct.contains(f))
}

#[tokio::test]
async fn every_read_in_every_format_passes_the_response_oracle() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for api in dialtone::spec::BUNDLED {
        let emu = emulator(&[api], &[]);
        let spec = &emu.api(api).unwrap().spec;
        let router = Router::new(spec);
        let role = spec
            .roles_by_rank()
            .last()
            .map(|r| r.name.get_ref().clone())
            .unwrap();
        for ep in spec.endpoints() {
            let Some(op) = ep.operation("GET") else {
                continue;
            };
            let Some(resp) = &op.response else { continue };
            for ct in &resp.content_types {
                let Some(fam) = structured(ct) else { continue };
                let mut target = sample::target(spec, ep, op);
                if let Some(p) = &resp.format_param {
                    let sep = if target.contains('?') { '&' } else { '?' };
                    target.push_str(&format!("{sep}{p}={fam}"));
                }
                let mut req = request(&emu, api, As::Role(&role), "GET", &target, None);
                req.headers_mut()
                    .insert(header::ACCEPT, HeaderValue::from_str(ct).unwrap());
                let a = read(emu.handle(req).await).await;
                if !(200..300).contains(&a.status) {
                    continue;
                }
                let headers: Vec<(String, String)> = a
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let answer = OracleAnswer {
                    status: a.status,
                    headers: &headers,
                    body: &a.body,
                };
                let reached = router.reach(spec, "GET", &target);
                let found = oracle::check(spec, reached, &answer, Mode { strict: true });
                checked += 1;
                if !found.is_empty() {
                    problems.push(format!(
                        "{api} GET {target} as {ct}: {}",
                        found
                            .iter()
                            .map(|f| f.line())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
            }
        }
    }
    assert!(checked > 150, "only {checked} answers were checked");
    assert!(
        problems.is_empty(),
        "{} of {checked} answers depart from their schemas:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
