//! The target profile: where a device is, how to trust its TLS certificate, and which
//! account to use for each role of a spec. Format and rules: `docs/target-profile.md`.
//!
//! Secrets are never written in a profile for a real device: an account names the
//! environment variable that holds its password or token. Plain values are accepted only
//! when the profile says `emulator = true` (the emulator's throwaway accounts). Resolved
//! secrets are wrapped in [`Secret`], whose `Debug` and `Display` print `<redacted>`, and
//! the `Debug` of [`Account`] (hence of [`Profile`]) redacts plain values too.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{did_you_mean, SourceFile};
use crate::spec::Spec;

/// Printed instead of a secret.
const REDACTED: &str = "<redacted>";

/// A whole target profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub target: Target,
    #[serde(default, skip_serializing_if = "TlsOptions::is_default")]
    pub tls: TlsOptions,
    /// Key: `<role>` or `<api>.<role>`; see [`Profile::credentials`].
    #[serde(default)]
    pub accounts: IndexMap<String, Account>,
    /// The file this profile was read from: a relative `ca_file` is resolved against its
    /// directory, and errors name it. `None` for a profile built in code.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[target]`: the device (or emulator) to test.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Base URL, `http://` or `https://`, e.g. `https://10.0.0.5:8443`.
    pub url: String,
    /// The target is dialtone's emulator: plain passwords and tokens are allowed.
    #[serde(default)]
    pub emulator: bool,
    /// The spec this profile is for (`mediant`, ...), or `all` for one emulator serving all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

/// `[tls]`: how to verify the target's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// Accept any certificate (the connection is still encrypted, but not authenticated).
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Extra trusted root certificate(s), PEM; relative to the profile file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Name to send in SNI and to verify the certificate against, instead of the URL host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

impl TlsOptions {
    fn is_default(&self) -> bool {
        *self == TlsOptions::default()
    }
}

/// `[accounts.<role>]`: one login. Exactly one of `password_env`, `password`, `token_env`,
/// `token` is set; the plain forms only in an emulator profile.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The password itself (emulator profiles only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Name of the environment variable holding a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// The bearer token itself (emulator profiles only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| REDACTED);
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password_env", &self.password_env)
            .field("password", &redact(&self.password))
            .field("token_env", &self.token_env)
            .field("token", &redact(&self.token))
            .finish()
    }
}

/// A resolved password or token. `Debug` and `Display` print `<redacted>`; call
/// [`Secret::expose`] at the one place the value is put on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredKind {
    Password,
    Token,
}

/// What an account resolves to.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: Option<String>,
    pub secret: Secret,
    pub kind: CredKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{}: cannot read profile", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}:{line}:{col}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error(
        "{}: account `{account}`: environment variable `{var}` is not set (or is empty)",
        path.display()
    )]
    MissingEnv {
        path: PathBuf,
        account: String,
        var: String,
    },
    #[error(
        "{}: account `{account}`: environment variable `{var}` holds a control character, \
         which cannot travel in an HTTP header (value not shown)",
        path.display()
    )]
    UnsendableEnv {
        path: PathBuf,
        account: String,
        var: String,
    },
}

/// Where a profile does not fit the specs of a run.
enum Misfit<'p> {
    /// `[target] api`.
    Api,
    /// The account with this key.
    Account(&'p str),
}

/// The four ways an account gives its secret, in the order they are reported.
const SECRET_KEYS: [&str; 4] = ["password_env", "password", "token_env", "token"];

impl Profile {
    /// A target profile that reaches an emulator at `url`: every account, with its
    /// throwaway password or token written in plain (allowed only for emulator profiles).
    pub fn for_emulator(
        accounts: &[crate::contract::Account],
        apis: &[String],
        url: &str,
        tls: bool,
    ) -> Profile {
        let single = apis.len() == 1;
        let mut out = IndexMap::new();
        for a in accounts {
            let key = if single {
                a.role.clone()
            } else {
                format!("{}.{}", a.api, a.role)
            };
            let (password, token, user) = if a.bearer {
                (None, Some(a.secret.clone()), None)
            } else {
                (Some(a.secret.clone()), None, Some(a.user.clone()))
            };
            out.insert(
                key,
                Account {
                    user,
                    password_env: None,
                    password,
                    token_env: None,
                    token,
                },
            );
        }
        Profile {
            target: Target {
                url: url.to_string(),
                emulator: true,
                api: Some(if single {
                    apis[0].clone()
                } else {
                    "all".to_string()
                }),
            },
            tls: TlsOptions {
                insecure_skip_verify: tls,
                ca_file: None,
                server_name: None,
            },
            accounts: out,
            source: None,
        }
    }

    /// Read and check a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Profile::parse(&text, path)
    }

    /// Parse and check profile text; `path` is used in errors and to resolve `ca_file`.
    pub fn parse(text: &str, path: &Path) -> Result<Profile, ProfileError> {
        let loc = Locator::new(text, path);
        let mut profile: Profile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = match loc.secret_value_at(&span) {
                // serde's messages may quote the offending value; never echo a secret.
                Some(key) => format!("invalid value for `{key}` (value not shown)"),
                None => e.message().trim().to_string(),
            };
            let (line, col) = loc.file.line_col(span.start);
            ProfileError::Parse {
                path: path.to_path_buf(),
                line,
                col,
                message,
            }
        })?;
        profile.source = Some(path.to_path_buf());
        profile.validate(&loc)?;
        Ok(profile)
    }

    /// The profile as TOML, with a header comment; [`Profile::parse`] reads it back.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a profile always serializes");
        format!(
            "# dialtone target profile (format: docs/target-profile.md)\n\
             # Secrets belong in environment variables: give their names in password_env/token_env.\n\
             \n{body}"
        )
    }

    /// The credentials for `role` of `api`: the account `<api>.<role>` if there is one,
    /// else the account `<role>` when the profile is for `api` (or names no api, or `all`).
    /// `Ok(None)` when no account matches. Reads the environment for `*_env` accounts.
    pub fn credentials(&self, api: &str, role: &str) -> Result<Option<Credentials>, ProfileError> {
        let namespaced = format!("{api}.{role}");
        let found = match self.accounts.get_key_value(namespaced.as_str()) {
            Some(hit) => Some(hit),
            None if self.applies_to(api) => self.accounts.get_key_value(role),
            None => None,
        };
        match found {
            Some((key, account)) => account.resolve(key, self.path()).map(Some),
            None => Ok(None),
        }
    }

    /// Every secret the profile resolves to, for redaction. Accounts whose variable is
    /// unset are left out (they cannot leak).
    pub fn secrets(&self) -> Vec<Secret> {
        self.accounts
            .iter()
            .filter_map(|(k, a)| a.resolve(k, self.path()).ok())
            .map(|c| c.secret)
            .collect()
    }

    /// `ca_file` as a path usable from the current directory (relative to the profile file).
    pub fn ca_file(&self) -> Option<PathBuf> {
        let ca = self.tls.ca_file.as_ref()?;
        let dir = self.source.as_ref().and_then(|p| p.parent());
        Some(match dir {
            Some(dir) if ca.is_relative() => dir.join(ca),
            _ => ca.clone(),
        })
    }

    /// The profile's `api` and account keys against the specs a run tests: a profile for
    /// another API, or an account naming a role (or API) no spec has, is an error rather
    /// than a run that silently skips every test needing that account.
    pub fn check_against(&self, specs: &[&Spec]) -> Result<(), ProfileError> {
        let Some((at, message)) = self.misfit(specs) else {
            return Ok(());
        };
        // The file is read again only to say where the problem is.
        let text = self
            .source
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let loc = Locator::new(&text, self.path());
        let offset = match at {
            Misfit::Api => loc.value(&["target", "api"]),
            Misfit::Account(key) => loc.key(&["accounts", key]),
        };
        Err(loc.invalid(offset, message))
    }

    /// The first way the profile does not fit `specs`, and what to say about it.
    fn misfit(&self, specs: &[&Spec]) -> Option<(Misfit<'_>, String)> {
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        let hint = |word: &str, among: &[&str]| {
            did_you_mean(word, among.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default()
        };
        if let Some(api) = self.target.api.as_deref() {
            if api != "all" && !names.contains(&api) {
                let message = format!(
                    "the profile is for API `{api}`, but the run tests {}{}",
                    names.join(", "),
                    hint(api, &names)
                );
                return Some((Misfit::Api, message));
            }
        }
        for key in self.accounts.keys() {
            let (api, role) = match key.split_once('.') {
                Some((a, r)) => (Some(a), r),
                None => (None, key.as_str()),
            };
            let applies: Vec<&Spec> = match api {
                Some(a) if names.contains(&a) => {
                    specs.iter().filter(|s| s.name() == a).copied().collect()
                }
                // An account for a bundled API this run does not test.
                Some(a) if crate::spec::BUNDLED.contains(&a) => continue,
                Some(a) => {
                    let known: Vec<&str> = crate::spec::BUNDLED
                        .iter()
                        .copied()
                        .chain(names.iter().copied())
                        .collect();
                    let message = format!(
                        "account `{key}` names no known API `{a}`{}",
                        hint(a, &known)
                    );
                    return Some((Misfit::Account(key), message));
                }
                None => specs
                    .iter()
                    .filter(|s| self.applies_to(s.name()))
                    .copied()
                    .collect(),
            };
            let roles: Vec<&str> = applies
                .iter()
                .flat_map(|s| s.roles().map(|r| r.name.get_ref().as_str()))
                .collect();
            if !applies.is_empty() && !roles.contains(&role) {
                let apis: Vec<&str> = applies.iter().map(|s| s.name()).collect();
                let message = format!(
                    "account `{key}` names no role of {}: the roles are {}{}",
                    apis.join(", "),
                    roles.join(", "),
                    hint(role, &roles)
                );
                return Some((Misfit::Account(key), message));
            }
        }
        None
    }

    /// Whether un-namespaced account keys apply to `api`.
    fn applies_to(&self, api: &str) -> bool {
        match self.target.api.as_deref() {
            None | Some("all") => true,
            Some(a) => a == api,
        }
    }

    fn path(&self) -> &Path {
        self.source
            .as_deref()
            .unwrap_or_else(|| Path::new("<profile>"))
    }

    fn validate(&self, loc: &Locator<'_>) -> Result<(), ProfileError> {
        if let Err(why) = check_url(&self.target.url) {
            return Err(loc.invalid(loc.value(&["target", "url"]), format!("`url` {why}")));
        }
        if let Some(api) = &self.target.api {
            if api.is_empty() {
                return Err(loc.invalid(loc.value(&["target", "api"]), "`api` is empty"));
            }
        }
        if let Some(name) = &self.tls.server_name {
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(loc.invalid(
                    loc.value(&["tls", "server_name"]),
                    "`server_name` must be a host name",
                ));
            }
        }
        if let Some(ca) = &self.tls.ca_file {
            if ca.as_os_str().is_empty() {
                return Err(loc.invalid(loc.value(&["tls", "ca_file"]), "`ca_file` is empty"));
            }
        }
        for (key, account) in &self.accounts {
            check_account_key(key).map_err(|m| loc.invalid(loc.key(&["accounts", key]), m))?;
            self.validate_account(key, account, loc)?;
        }
        Ok(())
    }

    fn validate_account(
        &self,
        key: &str,
        account: &Account,
        loc: &Locator<'_>,
    ) -> Result<(), ProfileError> {
        let given: Vec<&str> = SECRET_KEYS
            .into_iter()
            .filter(|k| account.secret_field(k).is_some())
            .collect();
        match given.as_slice() {
            [] => {
                return Err(loc.invalid(
                    loc.key(&["accounts", key]),
                    format!(
                        "account `{key}` has no secret: give `password_env` (or `token_env`) \
                         naming an environment variable"
                    ),
                ))
            }
            [_] => {}
            [first, second, ..] => {
                return Err(loc.invalid(
                    loc.key(&["accounts", key, second]),
                    format!(
                        "account `{key}` sets both `{first}` and `{second}`; give exactly one of \
                         password_env, password, token_env, token"
                    ),
                ))
            }
        }
        let field = given[0];
        let value = account.secret_field(field).unwrap_or_default();
        if matches!(field, "password" | "token") && !self.target.emulator {
            return Err(loc.invalid(
                loc.key(&["accounts", key, field]),
                format!(
                    "account `{key}` writes its {field} in the profile, which is allowed only \
                     for the emulator (`emulator = true`); store it in an environment variable \
                     and give its name in {field}_env"
                ),
            ));
        }
        if field.ends_with("_env") && !is_env_name(value) {
            // Deliberately not quoted: a secret pasted here by mistake must not be echoed.
            return Err(loc.invalid(
                loc.value(&["accounts", key, field]),
                format!(
                    "account `{key}`: `{field}` must be the NAME of an environment variable \
                     (letters, digits and `_`, not starting with a digit), not the secret itself"
                ),
            ));
        }
        if let Some(user) = &account.user {
            if user.is_empty() {
                return Err(loc.invalid(
                    loc.value(&["accounts", key, "user"]),
                    format!("account `{key}`: `user` is empty"),
                ));
            }
        }
        Ok(())
    }
}

impl Account {
    fn secret_field(&self, name: &str) -> Option<&str> {
        match name {
            "password_env" => self.password_env.as_deref(),
            "password" => self.password.as_deref(),
            "token_env" => self.token_env.as_deref(),
            "token" => self.token.as_deref(),
            _ => None,
        }
    }

    fn resolve(&self, key: &str, path: &Path) -> Result<Credentials, ProfileError> {
        let from_env = |var: &str| match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            _ => Err(ProfileError::MissingEnv {
                path: path.to_path_buf(),
                account: key.to_string(),
                var: var.to_string(),
            }),
        };
        let (secret, kind) = if let Some(var) = &self.password_env {
            (from_env(var)?, CredKind::Password)
        } else if let Some(p) = &self.password {
            (Secret(p.clone()), CredKind::Password)
        } else if let Some(var) = &self.token_env {
            // A token goes into the header as it is (a password is base64-encoded first).
            let token = from_env(var)?;
            if token.0.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ProfileError::UnsendableEnv {
                    path: path.to_path_buf(),
                    account: key.to_string(),
                    var: var.to_string(),
                });
            }
            (token, CredKind::Token)
        } else if let Some(t) = &self.token {
            (Secret(t.clone()), CredKind::Token)
        } else {
            return Err(ProfileError::Invalid {
                path: path.to_path_buf(),
                line: 0,
                col: 0,
                message: format!("account `{key}` has no secret"),
            });
        };
        Ok(Credentials {
            user: self.user.clone(),
            secret,
            kind,
        })
    }
}

/// `http://` or `https://`, a non-empty host, an optional numeric port; no user info.
/// `Err` says what is wrong without repeating the URL, which may hold a password.
pub fn check_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("must start with `http://` or `https://`".into());
    };
    if url.contains(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not contain a user or password; put them in an [accounts] table".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some(end) = v6.find(']') else {
            return Err("has an unclosed `[` in its host".into());
        };
        let after = &v6[end + 1..];
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err("has text after the IPv6 address".into()),
            },
        };
        (&v6[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && matches!(port.parse::<u16>(), Ok(p) if p > 0);
        if !ok {
            return Err(format!("has an invalid port `{port}` (expected 1-65535)"));
        }
    }
    Ok(())
}

/// `<role>` or `<api>.<role>`, neither part empty.
fn check_account_key(key: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let ok = match parts.as_slice() {
        [role] => !role.is_empty(),
        [api, role] => !api.is_empty() && !role.is_empty(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "account key `{key}` must be `<role>` or `<api>.<role>` \
             (quote it: [accounts.\"mediant.administrator\"])"
        ))
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Finds where keys and values are in the profile text, for `file:line:col`.
struct Locator<'a> {
    file: SourceFile,
    path: &'a Path,
    root: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        Locator {
            file: SourceFile::new(path.to_path_buf(), text.to_string()),
            path,
            root: DeTable::parse(text).ok(),
        }
    }

    /// The key and value of the deepest part of `keys` present in the document.
    fn find(&self, keys: &[&str]) -> Option<(Range<usize>, Range<usize>)> {
        let mut table = self.root.as_ref()?.get_ref();
        let mut found = None;
        for (i, want) in keys.iter().enumerate() {
            let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == want) else {
                break;
            };
            found = Some((k.span(), v.span()));
            if i + 1 < keys.len() {
                match v.get_ref() {
                    DeValue::Table(t) => table = t,
                    _ => break,
                }
            }
        }
        found
    }

    /// Offset of the key at `keys` (or of its deepest present ancestor).
    fn key(&self, keys: &[&str]) -> usize {
        self.find(keys).map(|(k, _)| k.start).unwrap_or(0)
    }

    /// Offset of the value at `keys` (or of its deepest present ancestor's key).
    fn value(&self, keys: &[&str]) -> usize {
        match self.find(keys) {
            Some((k, v)) if v.start >= k.end => v.start,
            Some((k, _)) => k.start,
            None => 0,
        }
    }

    /// The secret key (`password`, `token`) whose value overlaps `span`, if any.
    fn secret_value_at(&self, span: &Range<usize>) -> Option<&'static str> {
        let root = self.root.as_ref()?.get_ref();
        let accounts = root.get("accounts")?.get_ref().as_table()?;
        for (_, account) in accounts.iter() {
            let Some(account) = account.get_ref().as_table() else {
                continue;
            };
            for key in ["password", "token"] {
                if let Some(v) = account.get(key) {
                    let vs = v.span();
                    if span.start < vs.end.max(vs.start + 1)
                        && vs.start < span.end.max(span.start + 1)
                    {
                        return Some(key);
                    }
                }
            }
        }
        None
    }

    fn invalid(&self, offset: usize, message: impl Into<String>) -> ProfileError {
        let (line, col) = self.file.line_col(offset);
        ProfileError::Invalid {
            path: self.path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }
}
