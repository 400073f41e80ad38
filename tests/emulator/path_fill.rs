//! What a write's path fills into its body (`Endpoint::path_fill`), records inside records,
//! and JSON labelled `text/plain`: cases Schemathesis found against the sipXconfig emulator
//! (docs/openapi.md), each failing before its fix.

use serde_json::{json, Value};

use crate::support::*;

async fn get_json(emu: &dialtone::emulator::Emulator, path: &str) -> (u16, Value) {
    let a = send(emu, "sipxconfig", As::Role("superadmin"), "GET", path, None).await;
    let v = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    (a.status, v)
}

/// `POST /schedules/user/{userId}/personal` makes a schedule of that user: the path names the
/// owner, not the schedule. Before the fix the path value was written into the schedule's
/// key, so the new schedule had no owner and was missing from the user's list, and a text
/// path value was refused as "`scheduleId` is not an integer".
#[tokio::test]
async fn a_create_under_an_owner_path_belongs_to_that_owner() {
    let emu = emulator(&["sipxconfig"], &[]);
    let path = "/sipxconfig/api/schedules/user/2/personal";
    let body = json!({"name": "Lunch", "scheduleId": null});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 201, "{}", a.text());
    let (status, v) = get_json(&emu, path).await;
    assert_eq!(status, 200);
    let made = v
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "Lunch"))
        .unwrap_or_else(|| panic!("the new schedule is the user's: {v}"));
    assert_eq!(made["userId"], json!(2), "{made}");
    // The owner comes from the path, whatever the body says.
    let body = json!({"name": "Tea", "userId": 1});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 201, "{}", a.text());
    let (_, v) = get_json(&emu, path).await;
    assert!(
        v.as_array().unwrap().iter().any(|s| s["name"] == "Tea"),
        "{v}"
    );
    // A path value the owner field cannot hold is refused, and names the field.
    let bad = "/sipxconfig/api/schedules/user/alice/personal";
    let a = json_call(
        &emu,
        "sipxconfig",
        "superadmin",
        "POST",
        bad,
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(a.text().contains("userId"), "{}", a.text());
}

/// An update whose path names no stored record is not found, before its body is read; one
/// that names a phone by its MAC address updates that phone. Before the fix the path value
/// was written into the body's integer `id`: 400 "not an integer" for both.
#[tokio::test]
async fn an_update_finds_its_record_by_the_path_before_reading_the_body() {
    let emu = emulator(&["sipxconfig"], &[]);
    let body =
        json!({"serialNo": "0004f280cc95", "model": "polycomVVX500", "description": "by MAC"});
    let a = json_call(
        &emu,
        "sipxconfig",
        "superadmin",
        "PUT",
        "/sipxconfig/api/phones/0004f280cc95",
        body,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let (_, v) = get_json(&emu, "/sipxconfig/api/phones/1").await;
    assert_eq!(v["description"], "by MAC", "{v}");
    assert_eq!(v["id"], json!(1), "the phone keeps its id: {v}");
    // No such phone: not found, even with a body that would not do.
    for id in ["abc", "99"] {
        let path = format!("/sipxconfig/api/phones/{id}");
        let a = json_call(
            &emu,
            "sipxconfig",
            "superadmin",
            "PUT",
            &path,
            json!({"x": 1}),
        )
        .await;
        assert_eq!(a.status, 404, "{id}: {}", a.text());
    }
}

/// A key given as `null` is a key left out: the path fills it. Before the fix the null
/// stayed, and the page group's update was refused as missing its key.
#[tokio::test]
async fn a_null_key_is_filled_from_the_path() {
    let emu = emulator(&["sipxconfig"], &[]);
    let body = json!({"id": null, "groupNumber": 100, "description": "renamed"});
    let a = json_call(
        &emu,
        "sipxconfig",
        "superadmin",
        "PUT",
        "/sipxconfig/api/pagegroups/1",
        body,
    )
    .await;
    assert!(a.status < 300, "{}", a.text());
    let (_, v) = get_json(&emu, "/sipxconfig/api/pagegroups/1").await;
    assert_eq!(v["description"], "renamed", "{v}");
    assert_eq!(v["id"], json!(1), "{v}");
}

/// A record inside a record carries its schema's required fields (the response oracle
/// requires them in answers): a schedule period without `start` and `end` is refused, and
/// an empty text where a record is due is a record with no fields, never stored as text.
/// Before the fix `periods: [{}]` and `model: ""` were stored and read back, breaking the
/// spec's own response schema.
#[tokio::test]
async fn a_nested_record_needs_its_required_fields() {
    let emu = emulator(&["sipxconfig"], &[]);
    let path = "/sipxconfig/api/schedules/user/2/personal";
    let body = json!({"name": "Empty", "periods": [{}]});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(a.text().contains("start"), "{}", a.text());
    let body = json!({"name": "Full", "periods": [{"start": "12:00", "end": "13:00"}]});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 201, "{}", a.text());
    // A gateway's model given as empty text: a model with no fields, which lacks the
    // model's required `modelId`.
    let body = json!({"name": "gw", "model": ""});
    let a = json_call(
        &emu,
        "sipxconfig",
        "superadmin",
        "POST",
        "/sipxconfig/api/gateways/9",
        body,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(a.text().contains("modelId"), "{}", a.text());
    let (_, v) = get_json(&emu, "/sipxconfig/api/gateways").await;
    assert!(
        !v.to_string().contains(r#""model":"""#),
        "stored as text: {v}"
    );
}

/// sipXconfig takes a structured body labelled `text/plain` as well (decision
/// `phone-groups-plain-text`): it is the JSON document, checked as JSON is. Before the fix
/// any text was taken with 200.
#[tokio::test]
async fn json_labelled_text_plain_is_checked_as_json() {
    let emu = emulator(&["sipxconfig"], &[]);
    let path = "/sipxconfig/api/pagegroups/settings";
    let put = |b: &'static str| {
        let emu = emu.clone();
        async move {
            let body = Some(("text/plain", b.as_bytes().to_vec()));
            send(
                &emu,
                "sipxconfig",
                As::Role("superadmin"),
                "PUT",
                path,
                body,
            )
            .await
        }
    };
    for bad in ["hello", r#"{"x": 1}"#] {
        let a = put(bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.text());
    }
    let a =
        put(r#"{"settings": [{"path": "page-config/SIP_TRACE_LEVEL", "value": "DEBUG"}]}"#).await;
    assert!(a.status < 300, "{}", a.text());
}
