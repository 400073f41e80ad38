//! Zip members that would make the emulator hold far more than the upload: a JSON or CSV
//! member is held to the body limit, and one XML token to `codec::MAX_XML_TOKEN`. Found by
//! `benches/hostile.py` (issue 17 item 3): a zip of blanks drove the peak RSS to 1.6 GB.

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
