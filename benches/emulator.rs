//! Emulator benchmarks: throughput against a bare hyper baseline, a 1,000,000-route ROME
//! replace (time and peak memory, in a child process), and the cost of one alarm-history
//! page as the table grows. Prints Markdown tables; see docs/performance.md.
//!
//! Environment:
//! * `DIALTONE_BENCH_SECS` — seconds per throughput scenario (default 3);
//! * `DIALTONE_BENCH_CONNS` — concurrent keep-alive connections (default 16);
//! * `DIALTONE_BENCH_ROUTES` — rows in the replace (default 1,000,000);
//! * `DIALTONE_BENCH_PAGES` — alarm-history pages timed per size (default 2000);
//! * `DIALTONE_BENCH_PART` — run one part only: `rps`, `replace`, `phases`
//!   (the replace's public pieces timed one by one) or `history`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use base64::Engine as _;
use bytes::Bytes;
use dialtone::codec;
use dialtone::emulator::faults::Faults;
use dialtone::emulator::server::{serve, ServerOptions};
use dialtone::emulator::Emulator;
use dialtone::spec::model::AuthScheme;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn emulator(names: &[&str]) -> Arc<Emulator> {
    let specs = names
        .iter()
        .map(|n| {
            dialtone::spec::load(&dialtone::spec::resolve(n))
                .unwrap_or_else(|d| panic!("{n}: {d:?}"))
        })
        .collect();
    Arc::new(Emulator::new(specs, Faults::default()).expect("emulator"))
}

/// One request, sent again and again.
#[derive(Clone)]
struct Call {
    name: String,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    expect: u16,
}

impl Call {
    fn request(&self, host: &str) -> Request<Full<Bytes>> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str())
            .header("host", host);
        for (h, v) in &self.headers {
            b = b.header(h, v);
        }
        b.body(Full::new(self.body.clone())).expect("request")
    }

    fn axum_request(&self) -> Request<axum::body::Body> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str());
        for (h, v) in &self.headers {
            b = b.header(h, v);
        }
        b.body(axum::body::Body::from(self.body.clone()))
            .expect("request")
    }
}

/// A call with the API's credential for `role` and its required headers.
fn call(
    emu: &Emulator,
    api: &str,
    role: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
    expect: u16,
) -> Call {
    let a = emu.api(api).unwrap_or_else(|| panic!("no api {api}"));
    let auth = a.spec.auth();
    let acc = a
        .accounts()
        .iter()
        .find(|x| x.role == role)
        .unwrap_or_else(|| panic!("{api} has no role {role}"));
    let cred = if auth.scheme == AuthScheme::Bearer {
        format!(
            "{} {}",
            auth.prefix.as_deref().unwrap_or("Bearer"),
            acc.secret
        )
    } else {
        let raw = format!("{}:{}", acc.user, acc.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    let hv = |s: &str| HeaderValue::from_str(s).expect("header value");
    let hn = |s: &str| HeaderName::from_bytes(s.as_bytes()).expect("header name");
    let mut headers = vec![(hn(&auth.header), hv(&cred))];
    for (h, v) in &auth.required_headers {
        if h.eq_ignore_ascii_case("content-type") {
            if body.is_none() {
                headers.push((hn(h), hv(v)));
            }
        } else {
            headers.push((hn(h), hv(v)));
        }
    }
    let bytes = match body {
        Some((ct, b)) => {
            headers.push((hn("content-type"), hv(ct)));
            Bytes::copy_from_slice(b)
        }
        None => Bytes::new(),
    };
    Call {
        name: format!("{api} {method}"),
        method: Method::from_bytes(method.as_bytes()).expect("method"),
        path: path.to_string(),
        headers,
        body: bytes,
        expect,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

/// Send one request; status and body.
async fn send(sender: &mut Sender, req: Request<Full<Bytes>>) -> (u16, Bytes) {
    sender.ready().await.expect("connection ready");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, body)
}

/// Send `c` once and panic unless it gets its expected status; the body length.
async fn verify(addr: SocketAddr, c: &Call) -> usize {
    let mut s = connect(addr).await;
    let (status, body) = send(&mut s, c.request(&addr.to_string())).await;
    if status != c.expect {
        panic!(
            "{} {}: status {status}, expected {}; body: {}",
            c.name,
            c.path,
            c.expect,
            String::from_utf8_lossy(&body)
        );
    }
    body.len()
}

struct Load {
    requests: u64,
    errors: u64,
    secs: f64,
}

/// `conns` keep-alive connections sending `c` back to back for `secs`.
async fn load(addr: SocketAddr, c: &Call, conns: usize, secs: f64) -> Load {
    let host = addr.to_string();
    let mut senders = Vec::with_capacity(conns);
    for _ in 0..conns {
        senders.push(connect(addr).await);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for mut s in senders {
        let c = c.clone();
        let host = host.clone();
        tasks.spawn(async move {
            let (mut n, mut bad) = (0u64, 0u64);
            while Instant::now() < deadline {
                let (status, _) = send(&mut s, c.request(&host)).await;
                n += 1;
                if status != c.expect {
                    bad += 1;
                }
            }
            (n, bad)
        });
    }
    let (mut requests, mut errors) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (n, bad) = r.expect("client task");
        requests += n;
        errors += bad;
    }
    Load {
        requests,
        errors,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// A bare hyper HTTP/1.1 server answering 200 with `body` to everything.
async fn baseline_server(body: Bytes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        // Read the request body like the emulator does.
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(StatusCode::OK)
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn scenarios(emu: &Emulator) -> Vec<Call> {
    let json = "application/json";
    let xml = "application/xml";
    let route = b"<routeList><route><tid>1</tid><digitMatch>1212</digitMatch><alias>bench</alias><policy>top_down</policy><trunkIds>101</trunkIds><trunkIds>102</trunkIds><minLen>10</minLen><maxLen>11</maxLen></route></routeList>";
    vec![
        call(
            emu,
            "mediant",
            "monitor",
            "GET",
            "/api/v1/alarms/active?limit=20",
            None,
            200,
        ),
        call(
            emu,
            "mediant",
            "administrator",
            "POST",
            "/api/v1/files/create/debugFile",
            Some((json, b"{}")),
            202,
        ),
        call(
            emu,
            "sipxconfig",
            "superadmin",
            "GET",
            "/sipxconfig/rest/branch/1",
            None,
            200,
        ),
        call(
            emu,
            "sipxconfig",
            "superadmin",
            "PUT",
            "/sipxconfig/rest/branch/1",
            Some((json, br#"{"branch":{"name":"bench"}}"#)),
            200,
        ),
        call(
            emu,
            "rome",
            "read",
            "GET",
            "/ROME/webresources/hrs/download/route?format=json",
            None,
            200,
        ),
        call(
            emu,
            "rome",
            "read-write",
            "POST",
            "/ROME/webresources/hrs/update/route?format=xml",
            Some((xml, route)),
            200,
        ),
        call(
            emu,
            "roaming-profile",
            "reseller",
            "GET",
            "/api/GetRoamingProfile",
            None,
            200,
        ),
        call(
            emu,
            "roaming-profile",
            "reseller",
            "POST",
            "/api/modifyRoamingProfile",
            Some((
                json,
                br#"{"roamingProfileInfo":{"roamingProfileId":"101","status":"1"}}"#,
            )),
            200,
        ),
    ]
}

/// Mean time of `emu.handle` for `c`, body read, no socket: the engine's own cost.
async fn in_process(emu: &Emulator, c: &Call) -> f64 {
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        let r = emu.handle(c.axum_request()).await;
        assert_eq!(r.status().as_u16(), c.expect, "{} in-process", c.name);
        let _ = r.into_body().collect().await.expect("body");
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

async fn part_rps() {
    let secs = env_num("DIALTONE_BENCH_SECS", 3) as f64;
    let conns = env_num("DIALTONE_BENCH_CONNS", 16) as usize;
    let emu = emulator(&["mediant", "sipxconfig", "rome", "roaming-profile"]);
    let srv = serve(emu.clone().router(), ServerOptions::default())
        .await
        .expect("serve");
    let calls = scenarios(&emu);
    let mut sizes = Vec::new();
    for c in &calls {
        // Twice: a write must succeed again, not only the first time.
        verify(srv.addr, c).await;
        sizes.push(verify(srv.addr, c).await);
    }
    // The baseline answers with a body as large as the first GET's.
    let base_body = Bytes::from(vec![b'x'; sizes[0]]);
    let base_addr = baseline_server(base_body).await;
    let mut base_call = calls[0].clone();
    base_call.name = "baseline (bare hyper)".into();
    verify(base_addr, &base_call).await;

    println!("## Requests per second ({conns} keep-alive HTTP/1.1 connections, {secs} s each)\n");
    println!(
        "Each scenario runs right after its own baseline run, and its ratio is to the mean of the \
         baseline runs just before and just after it, so drift on a shared machine cancels out.\n"
    );
    println!("| scenario | path | body bytes | requests | errors | rps | adjacent baseline rps | × baseline | in-process µs/req |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let base_rps = |l: &Load| l.requests as f64 / l.secs;
    let mut before = base_rps(&load(base_addr, &base_call, conns, secs).await);
    let first_base = before;
    for (c, size) in calls.iter().zip(&sizes) {
        let l = load(srv.addr, c, conns, secs).await;
        let rps = l.requests as f64 / l.secs;
        let after = base_rps(&load(base_addr, &base_call, conns, secs).await);
        let adjacent = (before + after) / 2.0;
        let us = in_process(&emu, c).await;
        println!(
            "| {} | `{}` | {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.1} |",
            c.name,
            c.path,
            size,
            l.requests,
            l.errors,
            rps,
            adjacent,
            rps / adjacent,
            us
        );
        before = after;
    }
    let base_rps = first_base;
    // The baseline once more, to show drift over the run.
    let b2 = load(base_addr, &base_call, conns, secs).await;
    let base2 = b2.requests as f64 / b2.secs;
    println!(
        "| baseline at the end vs the first (drift) | (any) | {} | {} | {} | {:.0} | - | {:.2} | - |",
        sizes[0],
        b2.requests,
        b2.errors,
        base2,
        base2 / base_rps
    );
    println!();
    srv.shutdown().await;
}

fn proc_status(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .and_then(|r| r.trim_start_matches(':').trim().split(' ').next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The XML of `n` distinct routes.
fn routes_xml(n: u64) -> Vec<u8> {
    routes_xml_range(1, n)
}

/// A `<routeList>` with routes `from..=to`.
fn routes_xml_range(from: u64, to: u64) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut s = String::with_capacity((to + 1 - from.min(to + 1)) as usize * 200 + 64);
    s.push_str("<routeList>");
    for tid in from..=to {
        let _ = write!(
            s,
            "<route><tid>{tid}</tid><digitMatch>{}</digitMatch><alias>r{tid}</alias><policy>top_down</policy><trunkIds>101</trunkIds><trunkIds>102</trunkIds><minLen>10</minLen><maxLen>11</maxLen></route>",
            1200 + tid % 100
        );
    }
    s.push_str("</routeList>");
    s.into_bytes()
}

/// A zip holding `routes.xml` with `n` routes, written in chunks so the 185 MiB document
/// never sits in this process's memory (which would inflate the peak measured below).
fn routes_zip(n: u64) -> (Vec<u8>, usize) {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("routes.xml", opts).expect("zip member");
    let mut total = 0;
    let chunk = 10_000;
    let mut from = 1;
    let mut first = true;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        let mut part = routes_xml_range(from, to);
        if !first {
            part.drain(..b"<routeList>".len());
        }
        if to != n {
            part.truncate(part.len() - b"</routeList>".len());
        }
        first = false;
        total += part.len();
        w.write_all(&part).expect("zip write");
        from = to + 1;
    }
    if n == 0 {
        w.write_all(b"<routeList></routeList>").expect("zip write");
    }
    (w.finish().expect("zip finish").into_inner(), total)
}

/// Runs in a child process of its own, so its peak memory is its own.
async fn part_replace() {
    let n = env_num("DIALTONE_BENCH_ROUTES", 1_000_000);
    let emu = emulator(&["rome"]);
    let spec = &emu.api("rome").expect("rome").spec;
    let ep = spec
        .endpoints()
        .find(|e| e.path.get_ref() == "/replaceLarge/route")
        .expect("replaceLarge/route endpoint");
    let path = format!("{}?format=xml", spec.full_path(ep));

    let t = Instant::now();
    let (zip, xml_len) = routes_zip(n);
    let build = t.elapsed();
    let c = call(
        &emu,
        "rome",
        "read-write",
        "POST",
        &path,
        Some(("application/zip", &zip)),
        200,
    );
    let zip_len = zip.len();
    drop(zip);
    // Forget the peak of building the upload: from here VmHWM is this part's own.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let srv = serve(emu.clone().router(), ServerOptions::default())
        .await
        .expect("serve");
    let mut s = connect(srv.addr).await;
    let rss_before = proc_status("VmRSS");
    let hwm_before = proc_status("VmHWM");

    let t = Instant::now();
    let (status, body) = send(&mut s, c.request(&srv.addr.to_string())).await;
    let took = t.elapsed();
    let hwm_after = proc_status("VmHWM");
    let rss_after = proc_status("VmRSS");
    let rows = emu.api("rome").unwrap().table("route").unwrap().len();
    if status != 200 {
        panic!(
            "replace: status {status}; body: {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_eq!(rows as u64, n, "rows in the route table after the replace");
    println!("## ROME replaceLarge of {n} routes (child process)\n");
    println!("| figure | value |");
    println!("|---|---:|");
    println!("| XML member | {:.1} MiB |", xml_len as f64 / 1048576.0);
    println!("| zip upload | {:.1} MiB |", zip_len as f64 / 1048576.0);
    println!("| building the upload (not timed below) | {build:.2?} |");
    println!("| request, end to end | {:.2} s |", took.as_secs_f64());
    println!("| status / rows after | {status} / {rows} |");
    println!("| VmRSS before request | {:.0} MiB |", mib(rss_before));
    println!(
        "| VmHWM before request{} | {:.0} MiB |",
        if reset {
            " (peak reset)"
        } else {
            " (reset failed)"
        },
        mib(hwm_before)
    );
    println!("| VmHWM after request (peak) | {:.0} MiB |", mib(hwm_after));
    println!("| VmRSS after request | {:.0} MiB |", mib(rss_after));
    println!();
    srv.shutdown().await;
}

/// Time and peak memory of the public pieces of a replace, one after another.
fn part_phases() {
    let n = env_num("DIALTONE_BENCH_ROUTES", 1_000_000);
    let zip = codec::write_zip(&[("routes.xml".to_string(), routes_xml(n))]);
    let emu = emulator(&["rome"]);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    println!("## Replace phases, child process (public codec functions and load_rows)\n");
    println!("| phase | time | VmHWM after | VmRSS after |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, t: Instant| {
        println!(
            "| {name} | {:.2} s | {:.0} MiB | {:.0} MiB |",
            t.elapsed().as_secs_f64(),
            mib(proc_status("VmHWM")),
            mib(proc_status("VmRSS"))
        );
    };
    println!(
        "| start | - | {:.0} MiB | {:.0} MiB |",
        mib(proc_status("VmHWM")),
        mib(proc_status("VmRSS"))
    );
    let t = Instant::now();
    let members = codec::read_zip(&zip, dialtone::emulator::ZIP_MAX_TOTAL).expect("unzip");
    row("unzip (read_zip)", t);
    let t = Instant::now();
    let (_root, v) = codec::from_xml(&members[0].1).expect("xml");
    row("XML parse (from_xml)", t);
    drop(members);
    let items: Vec<serde_json::Value> = match v {
        serde_json::Value::Object(mut m) => match m.remove("route") {
            Some(serde_json::Value::Array(a)) => a,
            other => vec![other.unwrap_or_default()],
        },
        other => vec![other],
    };
    let t = Instant::now();
    let loaded = emu.api("rome").unwrap().load_rows("route", items);
    row(
        &format!("insert (load_rows: keys + BTreeMap) -> {loaded:?}"),
        t,
    );
    println!();
}

async fn part_history() {
    let pages = env_num("DIALTONE_BENCH_PAGES", 2000);
    let emu = emulator(&["mediant"]);
    let spec = &emu.api("mediant").unwrap().spec;
    let ep = spec
        .endpoints()
        .find(|e| {
            e.collection
                .as_ref()
                .is_some_and(|c| c.get_ref() == "history-alarms")
                && e.op.iter().any(|o| o.pagination.is_some())
        })
        .expect("history alarms endpoint");
    let base = spec.full_path(ep);
    println!("## One alarm-history page (limit=20, after=middle key), in-process\n");
    println!("| alarms | path | pages | mean µs/page |");
    println!("|---:|---|---:|---:|");
    let mut means = vec![];
    for n in [1_000u64, 1_000_000] {
        assert!(emu.api("mediant").unwrap().generate("history-alarms", n));
        let path = format!("{base}?limit=20&after={}", n / 2);
        let c = call(&emu, "mediant", "monitor", "GET", &path, None, 200);
        let first = emu.handle(c.axum_request()).await;
        let status = first.status().as_u16();
        let body = first.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&body);
        if status != 200 || !text.contains(&format!("\"{}\"", n / 2 + 1)) {
            panic!("history page: status {status}; body: {text}");
        }
        for _ in 0..pages / 10 {
            let r = emu.handle(c.axum_request()).await;
            let _ = r.into_body().collect().await;
        }
        let t = Instant::now();
        for _ in 0..pages {
            let r = emu.handle(c.axum_request()).await;
            let _ = r.into_body().collect().await.expect("body");
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / pages as f64;
        means.push(us);
        println!("| {n} | `{path}` | {pages} | {us:.1} |");
    }
    println!("\nratio 1,000,000 / 1,000: {:.2}\n", means[1] / means[0]);
}

/// Re-run this binary for one part, so its peak memory is measured alone.
fn in_child(part: &str) {
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .env("DIALTONE_BENCH_PART", part)
        .output()
        .expect("run the replace part");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        panic!("{part} part failed: {}", out.status);
    }
}

/// The same allocator as the `dialtone` binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// See `src/main.rs`: the bench runs with the binary's allocator settings.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let part = std::env::var("DIALTONE_BENCH_PART").unwrap_or_default();
    match part.as_str() {
        "rps" => rt.block_on(part_rps()),
        "replace" => rt.block_on(part_replace()),
        "history" => rt.block_on(part_history()),
        "phases" => part_phases(),
        "" => {
            // The children first, while this process is still small: a parent holding a
            // million-alarm table slowed the child's page faults by ~60 %.
            in_child("replace");
            in_child("phases");
            rt.block_on(part_rps());
            rt.block_on(part_history());
        }
        other => {
            panic!("DIALTONE_BENCH_PART: unknown part `{other}` (rps, replace, phases, history)")
        }
    }
}
