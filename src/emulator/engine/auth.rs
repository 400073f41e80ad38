//! Who is calling: the credentials of a request (Basic or a bearer token, plus any headers
//! the API requires) matched against the API's accounts, and the challenge a 401 carries.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response};
use base64::Engine as _;

use crate::emulator::faults::{FaultId, Faults};
use crate::emulator::{Account, ApiEmu};
use crate::spec::model::AuthScheme;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caller {
    Missing,
    Invalid,
    /// Basic credentials naming no account at all.
    UnknownUser,
    Role(usize),
}

pub(super) fn credentials(api: &ApiEmu, headers: &HeaderMap, faults: &Faults) -> Caller {
    let auth = api.spec.auth();
    for (h, v) in &auth.required_headers {
        // Content-Type is a body matter, checked with the body; others gate the call.
        if h.eq_ignore_ascii_case("content-type") {
            continue;
        }
        match headers.get(h.as_str()).and_then(|x| x.to_str().ok()) {
            Some(got) if got.trim().eq_ignore_ascii_case(v) => {}
            _ => return Caller::Missing,
        }
    }
    let mut given = headers.get_all(auth.header.as_str()).iter();
    let (Some(value), None) = (given.next(), given.next()) else {
        // Two credentials headers are refused whichever comes first: a device that read
        // only the first would let a good one vouch for a bad one.
        return if headers.contains_key(auth.header.as_str()) {
            Caller::Invalid
        } else {
            Caller::Missing
        };
    };
    let Ok(value) = value.to_str() else {
        return Caller::Invalid;
    };
    // `Caller::Role` holds the index of the matching account.
    let found = |pred: &dyn Fn(&Account) -> bool| {
        api.accounts
            .iter()
            .position(pred)
            .map_or(Caller::Invalid, Caller::Role)
    };
    match auth.scheme {
        AuthScheme::Basic => {
            let Some(b64) = strip_scheme(value, "Basic") else {
                return Caller::Invalid;
            };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
                return Caller::Invalid;
            };
            let text = String::from_utf8_lossy(&raw);
            let (user, pass) = text.split_once(':').unwrap_or((&text, ""));
            let any_password = faults.on(FaultId::BadCredentialsAccepted);
            match found(&|a| a.user == user && (a.secret == pass || any_password)) {
                Caller::Invalid if !api.accounts.iter().any(|a| a.user == user) => {
                    Caller::UnknownUser
                }
                c => c,
            }
        }
        AuthScheme::Bearer => {
            let token = match &auth.prefix {
                Some(p) => match strip_scheme(value, p) {
                    Some(t) => t.trim(),
                    None => return Caller::Invalid,
                },
                None => value.trim(),
            };
            match found(&|a| a.secret == token) {
                // The faulty device takes any token as its most privileged account.
                Caller::Invalid if faults.on(FaultId::BadCredentialsAccepted) => api
                    .accounts
                    .len()
                    .checked_sub(1)
                    .map_or(Caller::Invalid, Caller::Role),
                c => c,
            }
        }
    }
}

/// What follows `scheme` and a space in a credentials header; the scheme's name is
/// matched without regard to case, as HTTP's authentication schemes are.
fn strip_scheme<'v>(value: &'v str, scheme: &str) -> Option<&'v str> {
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then_some(rest)
}

pub(super) fn with_auth_challenge(api: &ApiEmu, mut r: Response<Body>) -> Response<Body> {
    let auth = api.spec.auth();
    if auth.scheme == AuthScheme::Basic && r.status() == 401 {
        let realm = auth.realm.as_deref().unwrap_or(api.name());
        if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}
