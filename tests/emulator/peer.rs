//! What a peer tool (Schemathesis) sends that the emulator must read as a device would:
//! an XML element with no children where an object is expected, and a JSON integer
//! written with a zero fraction.

use crate::support::*;

/// `<data></data>` is XML's only way to write an object with no fields; before the fix the
/// emulator refused it with "expected an object".
#[tokio::test]
async fn an_empty_xml_root_is_an_object_with_no_fields() {
    let emu = emulator(&["sipxconfig"], &[]);
    let body = Some(("application/xml", b"<data></data>".to_vec()));
    let a = send(
        &emu,
        "sipxconfig",
        As::Role("user"),
        "PUT",
        "/sipxconfig/rest/my/call/201",
        body,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    // JSON still says what it means: a string is not an object.
    let body = Some(("application/json", b"\"\"".to_vec()));
    let a = send(
        &emu,
        "sipxconfig",
        As::Role("user"),
        "PUT",
        "/sipxconfig/rest/my/call/201",
        body,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
}

/// JSON Schema, and the devices' JSON readers, count `60.0` as the integer 60; it is stored
/// and read back as 60. A real fraction is still refused.
#[tokio::test]
async fn a_json_integer_with_a_zero_fraction_is_that_integer() {
    let emu = emulator(&["sipxconfig"], &[]);
    let path = "/sipxconfig/api/pagegroups";
    let body = serde_json::json!({"groupNumber": 77, "timeout": 60.0, "description": "x"});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 201, "{}", a.text());
    let list = send(
        &emu,
        "sipxconfig",
        As::Role("superadmin"),
        "GET",
        path,
        None,
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
    let made = v["pageGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["groupNumber"] == 77)
        .expect("the new page group is listed");
    assert_eq!(made["timeout"], serde_json::json!(60));
    assert!(made["timeout"].is_i64(), "stored as an integer: {made}");
    let body = serde_json::json!({"groupNumber": 78, "timeout": 60.5, "description": "y"});
    let a = json_call(&emu, "sipxconfig", "superadmin", "POST", path, body).await;
    assert_eq!(a.status, 400, "{}", a.text());
}

/// A request whose content types include `none` may leave the body out, Content-Type and
/// all (sipXconfig's `PUT /phoneGroups/{id}/up`); before the fix it got 415.
#[tokio::test]
async fn a_body_the_spec_lets_a_request_leave_out_needs_no_content_type() {
    let emu = emulator(&["sipxconfig"], &[]);
    let path = "/sipxconfig/api/phoneGroups/2/up";
    let a = send(
        &emu,
        "sipxconfig",
        As::Role("superadmin"),
        "PUT",
        path,
        None,
    )
    .await;
    assert!(
        a.status == 200 || a.status == 204,
        "{} {}",
        a.status,
        a.text()
    );
    // A body of a type the operation does not take is still refused.
    let body = Some(("application/json", b"{}".to_vec()));
    let a = send(
        &emu,
        "sipxconfig",
        As::Role("superadmin"),
        "PUT",
        path,
        body,
    )
    .await;
    assert_eq!(a.status, 415, "{}", a.text());
}

/// A session timeout as large as the field's type allows gets a token; before the fix the
/// expiry overflowed the clock and the emulator dropped the connection (found by
/// Schemathesis, `.ci/schemathesis mediant`).
#[tokio::test]
async fn the_largest_session_timeout_gets_a_token_not_a_panic() {
    let emu = emulator(&["mediant"], &[]);
    let body =
        serde_json::json!({"username": "x", "privLevel": "admin", "sessionTimeout": i64::MAX});
    let a = json_call(
        &emu,
        "mediant",
        "security-administrator",
        "POST",
        "/api/v1/actions/authToken",
        body,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert!(
        v["authToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{v}"
    );
}

/// A digit string's length bounds hold when it is sent as a JSON number: before the fix a
/// 20-digit number was stored as a ROME jurisdiction prefix of at most 10 characters, and
/// the download then broke the spec's own schema (found by Schemathesis).
#[tokio::test]
async fn a_digit_string_sent_as_a_number_keeps_its_length_bounds() {
    let emu = emulator(&["rome"], &[]);
    let path = "/ROME/webresources/hrs/update/jurisdiction?format=json";
    let row = |prefix: serde_json::Value| serde_json::json!({"jurisdictionList": [{"prefix": prefix, "jurisdictionTypeId": 1, "lata": "224", "state": "NJ"}]});
    let a = json_call(
        &emu,
        "rome",
        "read-write",
        "POST",
        path,
        row(serde_json::json!(18446744073709551614u64)),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text());
    let a = json_call(
        &emu,
        "rome",
        "read-write",
        "POST",
        path,
        row(serde_json::json!(201556)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
}
