//! Over real loopback sockets: HTTP and HTTPS, the control interface, a stalled client.

use std::time::Duration;

use super::support::*;
use dialtone::emulator::server::{serve, ServerOptions};

async fn start(
    names: &[&str],
    tls: bool,
) -> (
    dialtone::emulator::server::Running,
    std::sync::Arc<dialtone::emulator::Emulator>,
) {
    let emu = emulator(names, &[]);
    let opts = ServerOptions {
        tls,
        ..Default::default()
    };
    (serve(emu.clone().router(), opts).await.unwrap(), emu)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_four_apis_side_by_side_over_http_and_https() {
    for tls in [false, true] {
        let (srv, emu) = start(&["mediant", "sipxconfig", "rome", "roaming-profile"], tls).await;
        assert!(
            srv.url.starts_with(if tls {
                "https://127.0.0.1:"
            } else {
                "http://127.0.0.1:"
            }),
            "{}",
            srv.url
        );
        let c = client();
        let m = account(&emu, "mediant", "monitor");
        let r = c
            .get(format!("{}/api/v1/alarms/active", srv.url))
            .basic_auth(&m.user, Some(&m.secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let s = account(&emu, "sipxconfig", "superadmin");
        let r = c
            .get(format!("{}/sipxconfig/rest/branch", srv.url))
            .basic_auth(&s.user, Some(&s.secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("<branch>"));
        let ro = account(&emu, "rome", "read");
        let r = c
            .get(format!(
                "{}/ROME/webresources/hrs/download/route?format=json",
                srv.url
            ))
            .basic_auth(&ro.user, Some(&ro.secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        let rp = account(&emu, "roaming-profile", "reseller");
        let r = c
            .get(format!("{}/api/GetRoamingProfile", srv.url))
            .header("X-Authorization", format!("Bearer {}", rp.secret))
            .header("X-Requested-With", "XMLHttpRequest")
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("1204"));
        // Wrong credentials, unknown path.
        let r = c
            .get(format!("{}/api/v1/alarms/active", srv.url))
            .basic_auth(&m.user, Some("nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = c
            .get(format!("{}/nothing/here", srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        srv.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_interface_switches_states_and_seeds() {
    let (srv, emu) = start(&["mediant"], false).await;
    let c = client();
    let r = c
        .put(format!("{}/_dialtone/mediant/states/ha-sync", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a = account(&emu, "mediant", "administrator");
    let r = c
        .post(format!("{}/api/v1/files/create/debugFile", srv.url))
        .basic_auth(&a.user, Some(&a.secret))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .delete(format!("{}/_dialtone/mediant/states/ha-sync", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .put(format!(
            "{}/_dialtone/mediant/states/no-such-state",
            srv.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(format!(
            "{}/_dialtone/mediant/collections/history-alarms/generate?count=5000",
            srv.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r: serde_json::Value = c
        .get(format!(
            "{}/_dialtone/mediant/collections/history-alarms",
            srv.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["count"], 5000);
    let r = c
        .post(format!(
            "{}/_dialtone/mediant/collections/history-alarms/generate?count=many",
            srv.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // More rows than fit in the emulator's allowance for generated data: refused, with the
    // cap named, and the table left as it was.
    let alarms = || {
        emu.api("mediant")
            .unwrap()
            .table("history-alarms")
            .unwrap()
            .len()
    };
    let cap = emu
        .api("mediant")
        .unwrap()
        .generate_cap("history-alarms")
        .unwrap();
    assert!((100_000..50_000_000).contains(&cap), "cap {cap}");
    let r = c
        .post(format!(
            "{}/_dialtone/mediant/collections/history-alarms/generate?count={}",
            srv.url,
            cap + 1
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains(&format!("{cap} rows")));
    assert_eq!(alarms(), 5000);
    let r = c
        .post(format!("{}/_dialtone/reset", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(alarms(), 5000);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_gets_413_and_a_stalled_client_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = emulator(&["sipxconfig"], &[]);
    let opts = ServerOptions {
        header_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let srv = serve(emu.clone().router(), opts).await.unwrap();
    let s = account(&emu, "sipxconfig", "superadmin");
    let big = vec![b' '; dialtone::contract::DEFAULT_MAX_BODY + 1024];
    let r = client()
        .put(format!("{}/sipxconfig/rest/branch", srv.url))
        .basic_auth(&s.user, Some(&s.secret))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        // The server may close the connection while the client is still sending.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert_eq!(
        emu.api("sipxconfig")
            .unwrap()
            .table("branches")
            .unwrap()
            .len(),
        1
    );
    let mut sock = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    sock.write_all(b"GET /sipxconfig/rest/branch HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
        .await
        .expect("closed within the header timeout");
    let _ = n; // EOF or a 408; either way the connection ended.
    srv.shutdown().await;
}
