//! The runner against targets that misbehave on the wire, against endless and cyclic cursor
//! walks, through a port-forwarder and a plain HTTP proxy, and against a target that echoes
//! credentials back. Every fake target here is a few lines of raw tokio TCP.
//!
//! Each test builds its own two-worker runtime; wall-clock bounds are hang guards, not
//! benchmarks.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use dialtone::harness::LocalEmulator;
use dialtone::profile::Profile;
use dialtone::runner::{ClientOptions, Options, Session, Suite, Test, TestResult, Verdict};
use dialtone::spec::model::RuleKind;
use dialtone::spec::Spec;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{runtime, session, spec, start_emulator};

/// The password of every account in the fake-target profiles. Long and distinctive, so a
/// leak cannot hide behind a coincidence.
const PASSWORD: &str = "Robust-Pw-9xQz-Leak-Canary";
const PASSWORD_ENV: &str = "DIALTONE_RUNNER_ROBUSTNESS_PASSWORD";

/// Hang guard for a whole loop of tests against one misbehaving target.
const WALL: Duration = Duration::from_secs(20);

fn user_for(role: &str) -> String {
    format!("robot-{role}")
}

/// A profile for a fake target: not the emulator (so no control interface is called), one
/// account per role of `spec`, the password taken from the environment.
fn fake_profile(url: &str, spec: &Spec) -> Profile {
    // Set once, before the first profile of any test reads it.
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| std::env::set_var(PASSWORD_ENV, PASSWORD));
    let mut text = format!("[target]\nurl = \"{url}\"\nemulator = false\n");
    for role in spec.roles() {
        let r = role.name.get_ref();
        text.push_str(&format!(
            "[accounts.{r}]\nuser = \"{}\"\npassword_env = \"{PASSWORD_ENV}\"\n",
            user_for(r)
        ));
    }
    Profile::parse(&text, Path::new("t.toml")).expect("the fake-target profile parses")
}

/// The mediant suite, and a session on the fake target at `addr`.
fn fake_session(addr: SocketAddr, timeout: Duration, max_body: usize) -> (Suite, Session) {
    let spec = spec("mediant");
    let profile = fake_profile(&format!("http://{addr}"), &spec);
    let suite = Suite::new(vec![spec], vec![]);
    let session = session(profile, &suite, options(timeout, max_body));
    (suite, session)
}

fn options(timeout: Duration, max_body: usize) -> Options {
    Options {
        client: ClientOptions {
            timeout,
            max_body,
            rate: None,
            proxy: None,
        },
        test_budget: Duration::from_secs(5),
        max_pages: 50,
        ..Options::default()
    }
}

/// Read a request head (through the blank line). Returns the head and whatever came after it.
async fn read_head(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn request_target(head: &str) -> String {
    head.split_whitespace().nth(1).unwrap_or("/").to_string()
}

fn header_value<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (h, v) = l.split_once(':')?;
        h.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn response(status: &str, content_type: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// ---- misbehaving targets ----------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Accept, read the request, never answer.
    Silent,
    /// Accept and close at once (FIN).
    Close,
    /// Accept and reset (RST).
    Reset,
    /// Answer bytes that are not HTTP.
    Garbage,
    /// `Content-Length: 1000`, 10 bytes, close.
    Truncated,
    /// A 1 MiB body, streamed.
    Huge,
    /// One body byte every 100 ms, forever.
    Trickle,
    /// Answer `{}` to the first N connections, then stop listening.
    StopAfter(usize),
    /// Answer `200 {}` to every request.
    EmptyOk,
    /// Answer `302 Found` to every request.
    Redirect,
}

/// Start a fake target in `mode`; returns its address and a count of connections accepted.
async fn start_fake(mode: Mode) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let count = conns.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            if let Mode::StopAfter(limit) = mode {
                if n >= limit {
                    // Stop listening before the last answer leaves, so every later request
                    // finds the port closed.
                    drop(listener);
                    tokio::spawn(misbehave(stream, mode));
                    return;
                }
            }
            tokio::spawn(misbehave(stream, mode));
        }
    });
    (addr, conns)
}

async fn misbehave(mut s: TcpStream, mode: Mode) {
    match mode {
        Mode::Close => {
            drop(s);
            return;
        }
        Mode::Reset => {
            let _ = s.set_zero_linger();
            drop(s);
            return;
        }
        _ => {}
    }
    if read_head(&mut s).await.is_none() {
        return;
    }
    match mode {
        Mode::Close | Mode::Reset => unreachable!(),
        Mode::Silent => {
            // Hold the connection open without a byte; the runtime's end drops it.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Mode::Garbage => {
            let _ = s
                .write_all(
                    b"\x00\x01\x02SSH-2.0-OpenSSH_9.6\r\n\xff\xfe\xfd not http at all\r\n\r\n",
                )
                .await;
        }
        Mode::Truncated => {
            let _ = s
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"alarms\":",
                )
                .await;
        }
        Mode::Huge => {
            let total = 1usize << 20;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 16 * 1024];
            for _ in 0..total / chunk.len() {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        Mode::Trickle => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                if s.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Mode::StopAfter(_) | Mode::EmptyOk => {
            let _ = s
                .write_all(&response("200 OK", "application/json", "", "{}"))
                .await;
        }
        Mode::Redirect => {
            let _ = s
                .write_all(&response(
                    "302 Found",
                    "text/plain",
                    "Location: /elsewhere\r\n",
                    "",
                ))
                .await;
        }
    }
    let _ = s.shutdown().await;
}

/// The first `n` mediant matrix GET cells sent with a real role that can run against a
/// read-only (non-emulator) target.
fn read_cells(suite: &Suite, session: &Session, n: usize) -> Vec<Test> {
    let cells: Vec<Test> = suite
        .tests
        .iter()
        .filter(|t| {
            t.case.is_none()
                && t.entry.kind == RuleKind::Matrix
                && t.entry.method.as_deref() == Some("GET")
                && t.entry.state.is_none()
                && t.entry.role.as_deref().is_some_and(|r| {
                    r != dialtone::plan::NO_CREDENTIALS && r != dialtone::plan::BAD_CREDENTIALS
                })
                && session.precheck(t).is_none()
        })
        .take(n)
        .cloned()
        .collect();
    assert_eq!(
        cells.len(),
        n,
        "the mediant suite has {n} runnable GET cells"
    );
    cells
}

/// Run the read cells against a fake target in `mode`; every result, in order.
fn run_against(mode: Mode, timeout: Duration, max_body: usize) -> (Vec<TestResult>, usize) {
    let rt = runtime();
    let (addr, conns) = rt.block_on(start_fake(mode));
    let (suite, session) = fake_session(addr, timeout, max_body);
    let cells = read_cells(&suite, &session, 5);
    let started = Instant::now();
    let results: Vec<TestResult> = cells.iter().map(|t| rt.block_on(session.run(t))).collect();
    let took = started.elapsed();
    assert!(
        took < WALL,
        "{mode:?}: {} tests took {took:?} (hang guard {WALL:?})",
        cells.len()
    );
    let accepted = conns.load(Ordering::SeqCst);
    rt.shutdown_timeout(Duration::from_secs(1));
    (results, accepted)
}

fn assert_all_error(mode: Mode, results: &[TestResult], fragment: Option<&str>) {
    for r in results {
        assert_eq!(
            r.verdict,
            Verdict::Error,
            "{mode:?}: {} gave {:?} ({:?}); a broken target must give `error`",
            r.id,
            r.verdict,
            r.message
        );
        let m = r.message.as_deref().unwrap_or("");
        assert!(
            !m.trim().is_empty(),
            "{mode:?}: {} errored without a message",
            r.id
        );
        if let Some(f) = fragment {
            assert!(
                m.contains(f),
                "{mode:?}: {}: message `{m}` lacks `{f}`",
                r.id
            );
        }
        assert!(
            r.exchanges.iter().any(|e| e.error.is_some()),
            "{mode:?}: {}: the evidence records no transport error",
            r.id
        );
    }
}

const SHORT: Duration = Duration::from_millis(300);

#[test]
fn silent_target_gives_error_within_the_timeout() {
    let (results, accepted) = run_against(Mode::Silent, SHORT, 64 << 10);
    assert!(accepted > 0, "the runner never connected");
    assert_all_error(Mode::Silent, &results, Some("no answer within"));
    for r in &results {
        // One request of 300 ms plus the whole-exchange guard of 1 s, at most.
        assert!(r.duration_ms < 3000.0, "{} took {} ms", r.id, r.duration_ms);
    }
}

#[test]
fn closing_target_gives_error() {
    let (results, _) = run_against(Mode::Close, SHORT, 64 << 10);
    assert_all_error(Mode::Close, &results, None);
}

#[test]
fn resetting_target_gives_error() {
    let (results, _) = run_against(Mode::Reset, SHORT, 64 << 10);
    assert_all_error(Mode::Reset, &results, None);
}

#[test]
fn garbage_answer_gives_error() {
    let (results, _) = run_against(Mode::Garbage, SHORT, 64 << 10);
    assert_all_error(Mode::Garbage, &results, None);
}

#[test]
fn truncated_body_gives_error() {
    let (results, _) = run_against(Mode::Truncated, SHORT, 64 << 10);
    assert_all_error(Mode::Truncated, &results, None);
}

#[test]
fn body_over_the_cap_gives_error() {
    let (results, _) = run_against(Mode::Huge, Duration::from_secs(5), 64 << 10);
    assert_all_error(
        Mode::Huge,
        &results,
        Some("larger than the cap of 65536 bytes"),
    );
}

#[test]
fn trickling_body_hits_the_time_bound() {
    let (results, _) = run_against(Mode::Trickle, SHORT, 64 << 10);
    assert_all_error(Mode::Trickle, &results, Some("no answer within"));
    for r in &results {
        assert!(r.duration_ms < 3000.0, "{} took {} ms", r.id, r.duration_ms);
    }
}

#[test]
fn target_that_stops_listening_gives_error_for_later_tests() {
    let answered = 2;
    let (results, accepted) = run_against(Mode::StopAfter(answered), SHORT, 64 << 10);
    assert_eq!(
        accepted, answered,
        "the fake target accepted more than it should"
    );
    for r in &results[..answered] {
        // Answered with `{}`: any verdict but a panic will do; it must still say something
        // when it is not a pass.
        if r.verdict != Verdict::Pass {
            assert!(
                r.message.is_some(),
                "{}: {:?} without a message",
                r.id,
                r.verdict
            );
        }
    }
    assert_all_error(
        Mode::StopAfter(answered),
        &results[answered..],
        Some("cannot connect"),
    );
}

// ---- endless and cyclic cursors ---------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Cursor {
    /// `after` is a new value on every page, never the sentinel.
    Endless,
    /// `after` is always the same value.
    Cycle,
}

/// A fake Mediant that answers the active-alarm list as `kind` says and 404 to the rest.
/// Returns the address and the number of alarm pages served.
async fn start_alarms(kind: Cursor) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pages = Arc::new(AtomicUsize::new(0));
    let served = pages.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let served = served.clone();
            tokio::spawn(async move {
                let Some((head, _)) = read_head(&mut s).await else {
                    return;
                };
                let target = request_target(&head);
                let path = target.split('?').next().unwrap_or("");
                let answer = if head.starts_with("GET ") && path.ends_with("/alarms/active") {
                    let n = served.fetch_add(1, Ordering::SeqCst) + 1;
                    let after = match kind {
                        Cursor::Endless => (n + 1).to_string(),
                        Cursor::Cycle => "7".to_string(),
                    };
                    let body = format!(
                        r#"{{"alarms":[{{"id":"{n}","description":"alarm {n}","url":"/api/v1/alarms/active/{n}"}}],"cursor":{{"before":"-1","after":"{after}"}}}}"#
                    );
                    response("200 OK", "application/json", "", &body)
                } else {
                    response("404 Not Found", "application/json", "", "{}")
                };
                let _ = s.write_all(&answer).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, pages)
}

fn walk_forward(kind: Cursor) -> (TestResult, usize, Duration) {
    let rt = runtime();
    let (addr, pages) = rt.block_on(start_alarms(kind));
    let (suite, session) = fake_session(addr, Duration::from_secs(2), 1 << 20);
    let test = suite
        .tests
        .iter()
        .find(|t| t.entry.id == "mediant/alarms/active/cursor/walk-forward")
        .expect("the mediant suite has the walk-forward test");
    let started = Instant::now();
    let r = rt.block_on(session.run(test));
    let took = started.elapsed();
    let served = pages.load(Ordering::SeqCst);
    rt.shutdown_timeout(Duration::from_secs(1));
    (r, served, took)
}

#[test]
fn endless_cursor_fails_at_the_page_bound() {
    let (r, served, took) = walk_forward(Cursor::Endless);
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "a walk that never ends is a non-conformance: {:?}",
        r.message
    );
    let m = r.message.as_deref().unwrap_or("");
    assert!(
        m.contains("50 pages"),
        "message `{m}` does not name the bound"
    );
    assert!(
        served <= 50,
        "the walk followed {served} pages past max_pages = 50"
    );
    assert!(took < Duration::from_secs(10), "the walk took {took:?}");
}

#[test]
fn repeating_cursor_fails_as_a_loop() {
    let (r, served, took) = walk_forward(Cursor::Cycle);
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "a cursor that comes back is a non-conformance: {:?}",
        r.message
    );
    let m = r.message.as_deref().unwrap_or("");
    assert!(
        m.contains("`7`") && m.contains("twice"),
        "message `{m}` does not name the repeated cursor"
    );
    assert!(served <= 3, "the walk followed {served} pages of a cycle");
    assert!(took < Duration::from_secs(10), "the walk took {took:?}");
}

// ---- through a port-forwarder and a proxy -------------------------------------------------

/// A TCP port-forwarder to `upstream`; returns its address and the connections it carried.
async fn start_forwarder(upstream: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let count = conns.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                }
            });
        }
    });
    (addr, conns)
}

#[derive(Default)]
struct ProxyLog {
    requests: AtomicUsize,
    absolute_form: AtomicUsize,
}

/// A plain HTTP forward proxy: one request per connection. It takes the absolute-form
/// request line, connects to its host, sends the request in origin form with
/// `Connection: close`, and relays bytes both ways until both sides are done.
async fn start_proxy() -> (SocketAddr, Arc<ProxyLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(ProxyLog::default());
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(proxy_one(client, seen.clone()));
        }
    });
    (addr, log)
}

async fn proxy_one(mut client: TcpStream, log: Arc<ProxyLog>) {
    let Some((head, rest)) = read_head(&mut client).await else {
        return;
    };
    log.requests.fetch_add(1, Ordering::SeqCst);
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let Some(after_scheme) = target.strip_prefix("http://") else {
        let _ = client
            .write_all(&response(
                "400 Bad Request",
                "text/plain",
                "",
                "absolute-form only",
            ))
            .await;
        return;
    };
    log.absolute_form.fetch_add(1, Ordering::SeqCst);
    let (authority, path) = match after_scheme.find(['/', '?']) {
        Some(i) if after_scheme.as_bytes()[i] == b'/' => {
            (&after_scheme[..i], after_scheme[i..].to_string())
        }
        Some(i) => (&after_scheme[..i], format!("/{}", &after_scheme[i..])),
        None => (after_scheme, "/".to_string()),
    };
    let mut out = format!("{method} {path} {version}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        let name = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "connection" | "proxy-connection" | "keep-alive" | "proxy-authorization"
        ) {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let Ok(mut up) = TcpStream::connect(authority).await else {
        let _ = client
            .write_all(&response(
                "502 Bad Gateway",
                "text/plain",
                "",
                "no upstream",
            ))
            .await;
        return;
    };
    if up.write_all(out.as_bytes()).await.is_err() || up.write_all(&rest).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
}

/// Run every roaming-profile test, one at a time, against `url` (which leads to `emulator`
/// directly or through something); returns `(id, verdict, message)` per test, in order.
fn whole_suite_via(
    rt: &tokio::runtime::Runtime,
    emulator: &LocalEmulator,
    url: &str,
    proxy: Option<String>,
) -> Vec<(String, Verdict, String)> {
    let mut profile = emulator.profile.clone();
    profile.target.url = url.to_string();
    let suite = Suite::new(vec![spec("roaming-profile")], vec![]);
    let opts = Options {
        client: ClientOptions {
            proxy,
            ..ClientOptions::default()
        },
        test_budget: Duration::from_secs(20),
        ..Options::default()
    };
    let session = session(profile, &suite, opts);
    suite
        .tests
        .iter()
        .map(|t| {
            let r = rt.block_on(session.run(t));
            (r.id, r.verdict, r.message.unwrap_or_default())
        })
        .collect()
}

fn not_passed(results: &[(String, Verdict, String)]) -> Vec<String> {
    results
        .iter()
        .filter(|(_, v, _)| matches!(v, Verdict::Fail | Verdict::Error))
        .map(|(id, v, m)| format!("{} {id}: {m}", v.as_str()))
        .collect()
}

fn start_roaming(rt: &tokio::runtime::Runtime) -> LocalEmulator {
    start_emulator(
        rt,
        spec("roaming-profile"),
        &[],
        dialtone::contract::DEFAULT_MAX_BODY,
    )
}

/// The whole roaming-profile suite through `via` gives the direct run's verdicts, test for
/// test, and no fail or error the direct run does not also give (those are the emulator's or
/// the runner's own; `whole_roaming_suite_passes_directly` reports them).
fn assert_transparent(
    what: &str,
    direct: &[(String, Verdict, String)],
    via: &[(String, Verdict, String)],
) {
    assert_eq!(direct.len(), via.len());
    let differ: Vec<String> = direct
        .iter()
        .zip(via)
        .filter(|(d, v)| d.1 != v.1)
        .map(|(d, v)| format!("{}: direct {:?}, {what} {:?} ({})", d.0, d.1, v.1, v.2))
        .collect();
    assert!(
        differ.is_empty(),
        "{} tests change verdict {what}:\n{}",
        differ.len(),
        differ.join("\n")
    );
    let known: Vec<String> = not_passed(direct);
    let new: Vec<String> = not_passed(via)
        .into_iter()
        .filter(|b| !known.contains(b))
        .collect();
    assert!(
        new.is_empty(),
        "{what}, {} tests did not pass:\n{}",
        new.len(),
        new.join("\n")
    );
    assert!(
        via.iter().any(|(_, v, _)| *v == Verdict::Pass),
        "{what}: no test passed"
    );
}

#[test]
fn whole_roaming_suite_passes_directly() {
    let rt = runtime();
    let emu = start_roaming(&rt);
    let url = emu.running.url.clone();
    let results = whole_suite_via(&rt, &emu, &url, None);
    let bad = not_passed(&results);
    rt.block_on(emu.running.shutdown());
    rt.shutdown_timeout(Duration::from_secs(1));
    assert!(
        bad.is_empty(),
        "against the in-process emulator, {} tests did not pass:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn whole_suite_passes_through_a_port_forwarder() {
    let rt = runtime();
    let emu = start_roaming(&rt);
    let (fwd, conns) = rt.block_on(start_forwarder(emu.running.addr));
    let direct = whole_suite_via(&rt, &emu, &emu.running.url.clone(), None);
    let started = Instant::now();
    let via = whole_suite_via(&rt, &emu, &format!("http://{fwd}"), None);
    let took = started.elapsed();
    assert_transparent("through the forwarder", &direct, &via);
    assert!(
        conns.load(Ordering::SeqCst) >= 1,
        "the forwarder carried no connection"
    );
    assert!(took < Duration::from_secs(60), "the suite took {took:?}");
    rt.block_on(emu.running.shutdown());
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn whole_suite_passes_through_a_plain_http_proxy() {
    let rt = runtime();
    let emu = start_roaming(&rt);
    let (proxy, log) = rt.block_on(start_proxy());
    let url = emu.running.url.clone();
    let direct = whole_suite_via(&rt, &emu, &url, None);
    let started = Instant::now();
    let via = whole_suite_via(&rt, &emu, &url, Some(format!("http://{proxy}")));
    let took = started.elapsed();
    assert_transparent("through the proxy", &direct, &via);
    let requests = log.requests.load(Ordering::SeqCst);
    assert!(requests >= 1, "the proxy saw no request");
    assert_eq!(
        log.absolute_form.load(Ordering::SeqCst),
        requests,
        "every proxied request line is in absolute form"
    );
    assert!(took < Duration::from_secs(60), "the suite took {took:?}");
    rt.block_on(emu.running.shutdown());
    rt.shutdown_timeout(Duration::from_secs(1));
}

// ---- credentials never leak -------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Echo {
    /// The `Authorization` header as sent, in the body and in a response header.
    Header,
    /// The decoded user and password, in the body.
    Decoded,
}

/// A target that answers 500 to everything, echoing the credentials it was sent.
async fn start_echo(kind: Echo) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some((head, _)) = read_head(&mut s).await else {
                    return;
                };
                let auth = header_value(&head, "authorization")
                    .unwrap_or("")
                    .to_string();
                let answer = match kind {
                    Echo::Header => response(
                        "500 Internal Server Error",
                        "application/json",
                        &format!("X-Seen-Auth: {auth}\r\n"),
                        &format!(r#"{{"error":"debug","seen_authorization":"{auth}"}}"#),
                    ),
                    Echo::Decoded => {
                        let decoded = auth
                            .strip_prefix("Basic ")
                            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        let (user, pass) = decoded.split_once(':').unwrap_or(("", ""));
                        response(
                            "500 Internal Server Error",
                            "application/json",
                            "",
                            &format!(r#"{{"error":"debug","user":"{user}","password":"{pass}"}}"#),
                        )
                    }
                };
                let _ = s.write_all(&answer).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// Every JSON path under `v` whose string (or key) contains `needle`.
fn paths_containing(v: &Value, needle: &str, at: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains(needle) => out.push(at.to_string()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                paths_containing(x, needle, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                if k.contains(needle) {
                    out.push(format!("{at}.{k} (key)"));
                }
                paths_containing(x, needle, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn assert_no_leak(kind: Echo) {
    let rt = runtime();
    let addr = rt.block_on(start_echo(kind));
    let (suite, session) = fake_session(addr, Duration::from_secs(2), 1 << 20);
    let test = read_cells(&suite, &session, 1).remove(0);
    let role = test.entry.role.clone().expect("a cell with a role");
    let r = rt.block_on(session.run(&test));
    rt.shutdown_timeout(Duration::from_secs(1));
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "{}: a 500 to a GET that must succeed is a failure: {:?}",
        r.id,
        r.message
    );
    assert!(!r.exchanges.is_empty(), "a failure keeps its evidence");
    let json = serde_json::to_string(&r).expect("a result serializes");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{PASSWORD}", user_for(&role)));
    let tree: Value = serde_json::from_str(&json).unwrap();
    let mut leaks = Vec::new();
    for (what, needle) in [
        ("password", PASSWORD),
        ("base64 user:password", basic.as_str()),
    ] {
        let mut at = Vec::new();
        paths_containing(&tree, needle, "$", &mut at);
        for p in at {
            leaks.push(format!("{what} at {p}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{kind:?}: the serialized result of {} leaks credentials:\n  {}\nresult: {json}",
        r.id,
        leaks.join("\n  ")
    );
    assert!(
        json.contains("<redacted>"),
        "{kind:?}: nothing is marked redacted: {json}"
    );
}

#[test]
fn echoed_authorization_header_never_leaks() {
    assert_no_leak(Echo::Header);
}

#[test]
fn echoed_decoded_password_never_leaks() {
    assert_no_leak(Echo::Decoded);
}

// ---- vacuous passes ----------------------------------------------------------------------

/// Every test of the mediant suite whose id contains one of `parts` and that can run
/// against a read-only target, with its result against a fake target in `mode`.
fn results_for(mode: Mode, parts: &[&str]) -> Vec<TestResult> {
    let rt = runtime();
    let (addr, _) = rt.block_on(start_fake(mode));
    let (suite, session) = fake_session(addr, Duration::from_secs(2), 1 << 20);
    let tests: Vec<Test> = suite
        .tests
        .iter()
        .filter(|t| parts.iter().any(|p| t.id().contains(p)) && session.precheck(t).is_none())
        .cloned()
        .collect();
    assert!(!tests.is_empty(), "no runnable test matches {parts:?}");
    let results = tests.iter().map(|t| rt.block_on(session.run(t))).collect();
    rt.shutdown_timeout(Duration::from_secs(1));
    results
}

/// A target that answers `200 {}` to everything gives the list checks nothing to check:
/// none of them may pass on the missing list.
#[test]
fn empty_answers_pass_no_list_check() {
    let results = results_for(
        Mode::EmptyOk,
        &["/cursor/limit", "/kpi-param", "/cursor/walk-forward"],
    );
    let passed: Vec<&str> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Pass)
        .map(|r| r.id.as_str())
        .collect();
    assert!(passed.is_empty(), "passed on `200 {{}}`: {passed:?}");
}

/// A target that redirects every request never answers what the API documents: the
/// responses property fails on it.
#[test]
fn a_target_that_only_redirects_fails_the_responses_property() {
    let results = results_for(Mode::Redirect, &["mediant/property/responses"]);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Fail, "{}: {:?}", r.id, r.message);
        assert!(
            r.message.as_deref().is_some_and(
                |m| m.contains("302") || r.actual.as_deref().is_some_and(|a| a.contains("302"))
            ),
            "{}: {:?} / {:?}",
            r.id,
            r.message,
            r.actual
        );
    }
}
