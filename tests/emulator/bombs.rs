//! Zip members that would make the emulator hold far more than the upload: a JSON or CSV
//! member is held to the body limit, and one XML token to `codec::MAX_XML_TOKEN`. Found by
//! `benches/hostile.py` (issue 17 item 3): a zip of blanks drove the peak RSS to 1.6 GB.
//! And a large upload waiting for its turn leaves its body unread, so uploads at once do not
//! hold a body each.

use std::sync::Arc;

use dialtone::emulator::Emulator;

use crate::support::*;

const REPLACE: &str = "/ROME/webresources/hrs/replaceLarge/route";

fn rome(max_body: usize) -> Arc<Emulator> {
    let specs = vec![crate::common::spec("rome")];
    Arc::new(
        Emulator::new(specs, crate::common::faults(&[]))
            .unwrap()
            .with_max_body(max_body),
    )
}

/// A list of no items padded with `blanks` spaces, as the member `name`.
fn padded(name: &str, blanks: usize) -> Vec<u8> {
    let (head, tail) = if name.ends_with(".xml") {
        ("<routeList>", "</routeList>")
    } else {
        ("[", "]")
    };
    let text = format!("{head}{}{tail}", " ".repeat(blanks));
    dialtone::codec::write_zip(&[(name.to_string(), text.into_bytes())])
}

async fn replace(emu: &Emulator, zip: Vec<u8>) -> Answer {
    send(
        emu,
        "rome",
        As::Role("read-write"),
        "POST",
        REPLACE,
        Some(("application/zip", zip)),
    )
    .await
}

fn routes(emu: &Emulator) -> usize {
    emu.api("rome").unwrap().table("route").unwrap().len()
}

/// A JSON member is parsed whole, so it may not inflate past the body limit the same
/// document sent unzipped has. Before the fix a member of a gigabyte of blanks was held
/// whole (the zip's own 1 GiB inflate cap was the only bound).
#[tokio::test]
async fn a_zipped_json_member_is_held_to_the_body_limit() {
    let emu = rome(1 << 20);
    let before = routes(&emu);
    assert!(before > 0, "the seed data has routes");
    let a = replace(&emu, padded("routes.json", 2 << 20)).await;
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(routes(&emu), before, "a refused upload changes nothing");
    // Within the limit, the same member is read (an empty list empties the table).
    let a = replace(&emu, padded("routes.json", 512 << 10)).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(routes(&emu), 0);
}

/// An XML member is read as it inflates, but the parser holds one whole token at a time:
/// a text run longer than `MAX_XML_TOKEN` is refused with the API's 400. Before the fix
/// 17 MiB of blanks between two tags were held (and copied) whole, and accepted.
#[tokio::test]
async fn an_xml_token_longer_than_the_bound_is_refused() {
    let emu = rome(1 << 20);
    let before = routes(&emu);
    let a = replace(
        &emu,
        padded("routes.xml", dialtone::codec::MAX_XML_TOKEN + 1),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(routes(&emu), before, "a refused upload changes nothing");
    let a = replace(&emu, padded("routes.xml", 1 << 20)).await;
    assert_eq!(a.status, 200, "{}", a.text());
}

/// Large uploads are parsed one at a time, and one that waits for its turn does not read
/// its body meanwhile: four large uploads at once must not hold four bodies. Before the fix
/// the body was read first, so a waiting 48 MB upload was taken in whole at once (and
/// `benches/hostile.py`'s four zips at once peaked at 1,039 MiB instead of one's 780).
#[tokio::test]
async fn an_upload_waiting_its_turn_does_not_read_its_body() {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::time::{timeout, Duration};

    let emu = rome(64 << 20);
    let acct = crate::support::account(&emu, "rome", "read-write");
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", acct.user, acct.secret));
    let running = dialtone::emulator::server::serve(emu.clone().router(), Default::default())
        .await
        .unwrap();
    let head = |len: usize| {
        format!(
            "POST {REPLACE} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/zip\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    // A takes the turn and stalls in its body.
    let mut a = TcpStream::connect(running.addr).await.unwrap();
    a.write_all(head(200_000).as_bytes()).await.unwrap();
    a.write_all(b"PK").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // B's body is far more than the kernel's socket buffers hold: if the emulator reads
    // none of it, the write cannot finish.
    let mut b = TcpStream::connect(running.addr).await.unwrap();
    b.write_all(head(48 << 20).as_bytes()).await.unwrap();
    let body = vec![b'x'; 48 << 20];
    let mut sent = 0;
    let waited = timeout(Duration::from_secs(3), async {
        while sent < body.len() {
            let n = b.write(&body[sent..]).await.unwrap();
            sent += n;
        }
    })
    .await;
    assert!(
        waited.is_err(),
        "a waiting upload's body was read: all {sent} bytes taken while another held the turn"
    );
    // A goes away; B gets the turn, its body is read and refused (not a zip).
    drop(a);
    let mut answer = String::new();
    timeout(Duration::from_secs(20), async {
        b.write_all(&body[sent..]).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = b.read(&mut buf).await.unwrap();
        answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    })
    .await
    .expect("B is answered once A has gone");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    running.shutdown().await;
}
