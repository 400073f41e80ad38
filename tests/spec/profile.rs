//! Target profiles: parsing, errors with line numbers, secrets from the environment,
//! redaction, namespaced accounts.

use std::path::{Path, PathBuf};

use dialtone::profile::{CredKind, Profile, ProfileError, Secret};

use crate::common::scratch_dir;

const PATH: &str = "dir/profile.toml";

fn parse(text: &str) -> Result<Profile, ProfileError> {
    Profile::parse(text, Path::new(PATH))
}

/// The line and message of an error that must carry a position.
fn located(err: ProfileError) -> (usize, String) {
    let shown = err.to_string();
    match err {
        ProfileError::Parse {
            path, line, col, ..
        }
        | ProfileError::Invalid {
            path, line, col, ..
        } => {
            assert_eq!(path, PathBuf::from(PATH));
            assert!(col >= 1);
            assert!(
                shown.starts_with(&format!("{PATH}:{line}:{col}: ")),
                "{shown}"
            );
            (line, shown)
        }
        other => panic!("expected a located error, got {other:?}"),
    }
}

fn parse_error(text: &str) -> (usize, String) {
    match parse(text) {
        Err(e @ ProfileError::Parse { .. }) => located(e),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn invalid(text: &str) -> (usize, String) {
    match parse(text) {
        Err(e @ ProfileError::Invalid { .. }) => located(e),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

const REAL_DEVICE: &str = r#"
[target]
url = "https://10.1.2.3:8443"
api = "mediant"

[tls]
ca_file = "certs/ca.pem"
server_name = "sbc.example.net"

[accounts.administrator]
user = "admin"
password_env = "DIALTONE_TEST_UNUSED_ADMIN"

[accounts.monitor]
token_env = "DIALTONE_TEST_UNUSED_MONITOR"
"#;

const EMULATOR: &str = r#"
# written by `dialtone emulate --write-profile`
[target]
url = "https://127.0.0.1:41234"
emulator = true
api = "all"

[tls]
insecure_skip_verify = true
ca_file = "ca.pem"

[accounts."mediant.administrator"]
user = "admin"
password = "s3cret-mediant"

[accounts."rome.operator"]
token = "tok-rome-operator"

[accounts.viewer]
user = "view"
password = "s3cret-viewer"
"#;

#[test]
fn parses_real_device_profile() {
    let p = parse(REAL_DEVICE).unwrap();
    assert_eq!(p.target.url, "https://10.1.2.3:8443");
    assert!(!p.target.emulator);
    assert_eq!(p.target.api.as_deref(), Some("mediant"));
    assert!(!p.tls.insecure_skip_verify);
    assert_eq!(p.tls.server_name.as_deref(), Some("sbc.example.net"));
    assert_eq!(p.ca_file(), Some(PathBuf::from("dir/certs/ca.pem")));
    assert_eq!(
        p.accounts.keys().collect::<Vec<_>>(),
        ["administrator", "monitor"]
    );
    assert_eq!(p.source.as_deref(), Some(Path::new(PATH)));
}

#[test]
fn defaults_for_optional_tables() {
    let p = parse("[target]\nurl = \"http://h\"\n").unwrap();
    assert!(!p.target.emulator);
    assert_eq!(p.target.api, None);
    assert!(!p.tls.insecure_skip_verify);
    assert_eq!(p.tls.ca_file, None);
    assert!(p.accounts.is_empty());
    assert!(p.credentials("mediant", "administrator").unwrap().is_none());
}

#[test]
fn round_trips_through_to_toml() {
    for text in [
        REAL_DEVICE,
        EMULATOR,
        "[target]\nurl = \"http://h:1/base\"\n",
    ] {
        let p = parse(text).unwrap();
        let written = p.to_toml();
        assert!(written.starts_with("# "), "header comment: {written}");
        let again = parse(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(p, again, "{written}");
    }
    let written = parse(EMULATOR).unwrap().to_toml();
    assert!(
        written.contains("[accounts.\"mediant.administrator\"]"),
        "{written}"
    );
}

#[test]
fn load_reads_a_file_and_reports_io_errors() {
    let dir = scratch_dir("profile");
    let file = dir.join("p.toml");
    std::fs::write(&file, EMULATOR).unwrap();
    let p = Profile::load(&file).unwrap();
    assert_eq!(p.source.as_deref(), Some(file.as_path()));
    assert_eq!(p.ca_file(), Some(dir.join("ca.pem")));
    match Profile::load(&dir.join("missing.toml")) {
        Err(ProfileError::Io { path, .. }) => assert!(path.ends_with("missing.toml")),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn syntax_error_has_line() {
    let (line, msg) = parse_error("[target]\nurl = \"http://h\"\nemulator = tru\n");
    assert_eq!(line, 3, "{msg}");
}

#[test]
fn unknown_keys_are_errors_with_line() {
    let (line, msg) = parse_error("[target]\nurl = \"http://h\"\nurll = \"x\"\n");
    assert_eq!(line, 3, "{msg}");
    assert!(msg.contains("urll"), "{msg}");

    let (line, msg) = parse_error("[target]\nurl = \"http://h\"\n\n[tls]\nverify = false\n");
    assert_eq!(line, 5, "{msg}");

    let text = "[target]\nurl = \"http://h\"\n[accounts.admin]\nuser = \"a\"\npasswd_env = \"X\"\n";
    let (line, msg) = parse_error(text);
    assert_eq!(line, 5, "{msg}");

    let (line, msg) = parse_error("[target]\nurl = \"http://h\"\n[extra]\n");
    assert_eq!(line, 3, "{msg}");
}

#[test]
fn wrong_type_and_missing_url_are_errors() {
    let (line, msg) = parse_error("[target]\nurl = \"http://h\"\nemulator = \"yes\"\n");
    assert_eq!(line, 3, "{msg}");
    let (_, msg) = parse_error("[target]\nemulator = true\n");
    assert!(msg.contains("url"), "{msg}");
}

#[test]
fn bad_urls_are_rejected_at_the_url_line() {
    for url in [
        "ftp://h",
        "h:80",
        "http://",
        "https:///path",
        "http://h:",
        "http://h:80x",
        "http://h:70000",
        "http://h:0",
        "http://user:pw@h",
        "http://[::1",
        "http://h /x",
    ] {
        let text = format!("[target]\n\nurl = \"{url}\"\n");
        let (line, msg) = invalid(&text);
        assert_eq!(line, 3, "{url}: {msg}");
        assert!(msg.contains("`url`"), "{msg}");
    }
    for url in [
        "http://h",
        "https://10.0.0.1:8443",
        "https://[::1]:443/api",
        "HTTPS://Host.Example/x?y",
    ] {
        let text = format!("[target]\nurl = \"{url}\"\n");
        assert!(parse(&text).is_ok(), "{url}");
    }
}

#[test]
fn url_with_password_is_not_echoed() {
    let (_, msg) = invalid("[target]\nurl = \"https://admin:hunter2@h\"\n");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn plain_password_needs_emulator() {
    let text = r#"[target]
url = "https://h"

[accounts.administrator]
user = "admin"
password = "hunter2"
"#;
    let (line, msg) = invalid(text);
    assert_eq!(line, 6, "{msg}");
    assert!(msg.contains("administrator"), "{msg}");
    assert!(msg.contains("environment variable"), "{msg}");
    assert!(msg.contains("password_env"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");

    let text = "[target]\nurl = \"https://h\"\n[accounts.api]\ntoken = \"t0k\"\n";
    let (line, msg) = invalid(text);
    assert_eq!(line, 4, "{msg}");
    assert!(msg.contains("token_env"), "{msg}");

    let allowed = text.replace("[target]\n", "[target]\nemulator = true\n");
    assert!(parse(&allowed).is_ok());
}

#[test]
fn exactly_one_secret_per_account() {
    let text = r#"[target]
url = "https://h"
emulator = true

[accounts.admin]
user = "a"
password_env = "A"
token_env = "B"
"#;
    let (line, msg) = invalid(text);
    assert_eq!(line, 8, "{msg}");
    assert!(
        msg.contains("password_env") && msg.contains("token_env"),
        "{msg}"
    );

    let text = "[target]\nurl = \"https://h\"\n\n[accounts.admin]\nuser = \"a\"\n";
    let (line, msg) = invalid(text);
    assert_eq!(line, 4, "{msg}");
    assert!(msg.contains("no secret"), "{msg}");
}

#[test]
fn env_field_must_be_a_variable_name() {
    let text = "[target]\nurl = \"https://h\"\n[accounts.admin]\nuser = \"a\"\npassword_env = \"pa ss!\"\n";
    let (line, msg) = invalid(text);
    assert_eq!(line, 5, "{msg}");
    assert!(msg.contains("NAME"), "{msg}");
    assert!(!msg.contains("pa ss!"), "{msg}");
}

#[test]
fn bad_account_keys() {
    let text = "[target]\nurl = \"https://h\"\n\n[accounts.\"a.b.c\"]\npassword_env = \"X\"\n";
    let (line, msg) = invalid(text);
    assert_eq!(line, 4, "{msg}");
    let text = "[target]\nurl = \"https://h\"\n[accounts.\".admin\"]\npassword_env = \"X\"\n";
    let (line, _) = invalid(text);
    assert_eq!(line, 3);
}

#[test]
fn wrongly_typed_plain_password_is_not_echoed() {
    let text =
        "[target]\nurl = \"https://h\"\nemulator = true\n[accounts.a]\npassword = 987654321\n";
    let (line, msg) = parse_error(text);
    assert_eq!(line, 5, "{msg}");
    assert!(!msg.contains("987654321"), "{msg}");
}

#[test]
fn credentials_from_environment() {
    let var = "DIALTONE_TEST_PROFILE_ENV_PASSWORD_7F3A";
    let text = format!(
        "[target]\nurl = \"https://h\"\napi = \"mediant\"\n[accounts.administrator]\nuser = \"admin\"\npassword_env = \"{var}\"\n"
    );
    let p = parse(&text).unwrap();
    // SAFETY: test-unique variable name; no other thread reads it.
    unsafe { std::env::set_var(var, "from-env-pw") };
    let c = p.credentials("mediant", "administrator").unwrap().unwrap();
    assert_eq!(c.user.as_deref(), Some("admin"));
    assert_eq!(c.kind, CredKind::Password);
    assert_eq!(c.secret.expose(), "from-env-pw");
    unsafe { std::env::remove_var(var) };
}

#[test]
fn token_from_environment() {
    let var = "DIALTONE_TEST_PROFILE_ENV_TOKEN_91C2";
    let text =
        format!("[target]\nurl = \"https://h\"\n[accounts.monitor]\ntoken_env = \"{var}\"\n");
    let p = parse(&text).unwrap();
    unsafe { std::env::set_var(var, "bearer-xyz") };
    let c = p.credentials("rome", "monitor").unwrap().unwrap();
    assert_eq!(c.user, None);
    assert_eq!(c.kind, CredKind::Token);
    assert_eq!(c.secret.expose(), "bearer-xyz");
    unsafe { std::env::remove_var(var) };
}

#[test]
fn missing_env_var_names_the_variable() {
    let var = "DIALTONE_TEST_PROFILE_ENV_MISSING_44B0";
    let text = format!(
        "[target]\nurl = \"https://h\"\n[accounts.admin]\nuser = \"a\"\npassword_env = \"{var}\"\n"
    );
    let p = parse(&text).unwrap();
    unsafe { std::env::remove_var(var) };
    match p.credentials("mediant", "admin") {
        Err(e @ ProfileError::MissingEnv { .. }) => {
            let shown = e.to_string();
            assert!(shown.contains(var), "{shown}");
            assert!(shown.contains("admin"), "{shown}");
            assert!(shown.starts_with(PATH), "{shown}");
            if let ProfileError::MissingEnv {
                account, var: v, ..
            } = e
            {
                assert_eq!(account, "admin");
                assert_eq!(v, var);
            }
        }
        other => panic!("{other:?}"),
    }
    // Set but empty counts as missing.
    unsafe { std::env::set_var(var, "") };
    assert!(matches!(
        p.credentials("mediant", "admin"),
        Err(ProfileError::MissingEnv { .. })
    ));
    unsafe { std::env::remove_var(var) };
}

#[test]
fn a_token_with_a_control_character_is_one_error_naming_the_variable() {
    let var = "DIALTONE_TEST_PROFILE_ENV_CTRL_7C21";
    let text =
        format!("[target]\nurl = \"https://h\"\n[accounts.monitor]\ntoken_env = \"{var}\"\n");
    let p = parse(&text).unwrap();
    unsafe { std::env::set_var(var, "tok\u{1}en-s3cret") };
    let e = p.credentials("rome", "monitor").unwrap_err();
    unsafe { std::env::remove_var(var) };
    let shown = e.to_string();
    assert!(matches!(e, ProfileError::UnsendableEnv { .. }), "{shown}");
    assert!(
        shown.contains(var) && shown.contains("control character"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn namespaced_lookup() {
    let p = parse(EMULATOR).unwrap();
    let c = p.credentials("mediant", "administrator").unwrap().unwrap();
    assert_eq!(c.user.as_deref(), Some("admin"));
    assert_eq!(c.secret.expose(), "s3cret-mediant");
    assert_eq!(c.kind, CredKind::Password);

    let c = p.credentials("rome", "operator").unwrap().unwrap();
    assert_eq!(c.kind, CredKind::Token);
    assert_eq!(c.secret.expose(), "tok-rome-operator");

    // Namespaced to another API: not found.
    assert!(p.credentials("rome", "administrator").unwrap().is_none());
    assert!(p.credentials("mediant", "operator").unwrap().is_none());
    // `api = "all"`: an un-namespaced key applies to every API.
    for api in ["mediant", "rome", "sipxconfig"] {
        let c = p.credentials(api, "viewer").unwrap().unwrap();
        assert_eq!(c.secret.expose(), "s3cret-viewer");
    }
}

#[test]
fn namespaced_key_wins_and_plain_key_follows_target_api() {
    let text = r#"[target]
url = "http://127.0.0.1:1"
emulator = true
api = "mediant"

[accounts.admin]
user = "plain"
password = "p1"

[accounts."mediant.admin"]
user = "namespaced"
password = "p2"

[accounts."rome.admin"]
user = "rome"
password = "p3"
"#;
    let p = parse(text).unwrap();
    let c = p.credentials("mediant", "admin").unwrap().unwrap();
    assert_eq!(c.user.as_deref(), Some("namespaced"));
    let c = p.credentials("rome", "admin").unwrap().unwrap();
    assert_eq!(c.user.as_deref(), Some("rome"));
    // The plain key belongs to `mediant` only.
    assert!(p.credentials("sipxconfig", "admin").unwrap().is_none());

    // Without a target api, the plain key applies to any API.
    let text = text.replace("api = \"mediant\"\n", "");
    let p = parse(&text).unwrap();
    let c = p.credentials("sipxconfig", "admin").unwrap().unwrap();
    assert_eq!(c.user.as_deref(), Some("plain"));
}

#[test]
fn debug_output_redacts_secrets() {
    let p = parse(EMULATOR).unwrap();
    let shown = format!("{p:?} {p:#?}");
    for secret in ["s3cret-mediant", "tok-rome-operator", "s3cret-viewer"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("<redacted>"));
    assert!(shown.contains("admin"), "user names stay visible");

    let c = p.credentials("mediant", "administrator").unwrap().unwrap();
    let shown = format!("{c:?} {c:#?} {}", c.secret);
    assert!(!shown.contains("s3cret-mediant"), "{shown}");
    assert!(shown.contains("<redacted>"));

    let s = Secret::new("abc");
    assert_eq!(format!("{s}"), "<redacted>");
    assert_eq!(format!("{s:?}"), "<redacted>");
    assert_eq!(s.expose(), "abc");
}

#[test]
fn debug_shows_env_var_names() {
    let p = parse(REAL_DEVICE).unwrap();
    let shown = format!("{p:?}");
    assert!(shown.contains("DIALTONE_TEST_UNUSED_ADMIN"), "{shown}");
}
