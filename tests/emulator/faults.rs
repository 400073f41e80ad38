//! Every fault in the catalogue changes what a client observes, and the conformant
//! emulator gives the documented answer to the same probe.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::json;

use super::support::*;
use dialtone::emulator::faults::CATALOGUE;
use dialtone::emulator::Emulator;

type Probe = fn(Arc<Emulator>) -> Pin<Box<dyn Future<Output = String>>>;

async fn alarms_page(emu: &Emulator, query: &str) -> Answer {
    send(
        emu,
        "mediant",
        As::Role("monitor"),
        "GET",
        &format!("/api/v1/alarms/history?{query}"),
        None,
    )
    .await
}

/// Rename the seeded roaming profile 101 as the reseller.
async fn rename_profile_101(e: &Emulator, name: &str) {
    json_call(
        e,
        "roaming-profile",
        "reseller",
        "POST",
        "/api/modifyRoamingProfile",
        json!({"roamingProfileInfo": {"roamingProfileId": "101", "roamingProfileName": name}}),
    )
    .await;
}

/// The name roaming profile 101 reads back with.
async fn profile_101_name(e: &Emulator) -> String {
    let a = send(
        e,
        "roaming-profile",
        As::Role("reseller"),
        "GET",
        "/api/GetRoamingProfile?roamingProfileId=101",
        None,
    )
    .await;
    a.json()["Response"]["responseParam"]["rows"][0]["roamingProfileName"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn probes() -> Vec<(&'static str, &'static str, Probe)> {
    vec![
        ("skip-privilege-check", "403", |e| {
            Box::pin(async move {
                let a = json_call(&e, "roaming-profile", "enterprise", "POST", "/api/createRoamingProfile",
                json!({"roamingProfileInfo": {"roamingProfileName": "P", "destinationGroupId": "41", "status": "1"}})).await;
                a.status.to_string()
            })
        }),
        ("404-for-405", "405", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::Role("monitor"),
                    "DELETE",
                    "/api/v1/alarms/active",
                    None,
                )
                .await
                .status
                .to_string()
            })
        }),
        ("no-allow-header", "GET", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::Role("monitor"),
                    "DELETE",
                    "/api/v1/alarms/active",
                    None,
                )
                .await
                .header("allow")
                .unwrap_or_default()
            })
        }),
        ("bad-credentials-accepted", "401", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::BadPassword,
                    "GET",
                    "/api/v1/alarms/active",
                    None,
                )
                .await
                .status
                .to_string()
            })
        }),
        ("cursor-skips-item", "6", |e| {
            Box::pin(async move {
                e.api("mediant").unwrap().generate("history-alarms", 30);
                alarms_page(&e, "after=5&limit=3").await.json()["alarms"][0]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        }),
        ("missing-sentinel", "\"-1\"", |e| {
            Box::pin(async move {
                alarms_page(&e, "limit=3").await.json()["cursor"]["before"].to_string()
            })
        }),
        ("limit-ignored", "2", |e| {
            Box::pin(async move {
                e.api("mediant").unwrap().generate("history-alarms", 30);
                alarms_page(&e, "limit=2").await.json()["alarms"]
                    .as_array()
                    .unwrap()
                    .len()
                    .to_string()
            })
        }),
        ("empty-as-200", "204", |e| {
            Box::pin(async move {
                e.api("mediant")
                    .unwrap()
                    .load_rows("history-alarms", vec![])
                    .unwrap();
                alarms_page(&e, "").await.status.to_string()
            })
        }),
        ("skip-completeness", "1202", |e| {
            Box::pin(async move {
                let a = json_call(
                    &e,
                    "roaming-profile",
                    "reseller",
                    "POST",
                    "/api/createRoamingProfile",
                    json!({"roamingProfileInfo": {"roamingProfileName": "P", "status": "1"}}),
                )
                .await;
                a.json()["Response"]["resultParam"]["resultCode"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        }),
        ("skip-value-checks", "1202", |e| {
            Box::pin(async move {
                // `status` is "0" or "1": 7 breaks its enumeration.
                let a = json_call(
                    &e,
                    "roaming-profile",
                    "reseller",
                    "POST",
                    "/api/createRoamingProfile",
                    json!({"roamingProfileInfo": {"roamingProfileName": "P7", "destinationGroupId": "41", "status": "7"}}),
                )
                .await;
                a.json()["Response"]["resultParam"]["resultCode"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        }),
        ("update-appends", "EU-only-renamed", |e| {
            Box::pin(async move {
                // The same modify twice: the name must be the one sent, not sent twice.
                for _ in 0..2 {
                    rename_profile_101(&e, "EU-only-renamed").await;
                }
                profile_101_name(&e).await
            })
        }),
        ("update-not-kept", "EU-kept", |e| {
            Box::pin(async move {
                rename_profile_101(&e, "EU-kept").await;
                profile_101_name(&e).await
            })
        }),
        ("list-reversed", "true", |e| {
            Box::pin(async move {
                // The seed lists the built-in permission before the custom one.
                let t = send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "GET",
                    "/sipxconfig/rest/permission",
                    None,
                )
                .await
                .text();
                match (t.find("LocalDialing"), t.find("perm_1")) {
                    (Some(a), Some(b)) => (a < b).to_string(),
                    _ => format!("not both listed: {t}"),
                }
            })
        }),
        ("partial-apply", "false", |e| {
            Box::pin(async move {
                let body = "<routeList><route><tid>900</tid><digitMatch>9</digitMatch><alias>a</alias><policy>top_down</policy><trunkIds>1</trunkIds><minLen>1</minLen><maxLen>2</maxLen></route>\
                        <route><tid>901</tid><digitMatch>9</digitMatch><alias>b</alias><policy>top_down</policy><trunkIds>1</trunkIds><minLen>x</minLen><maxLen>2</maxLen></route></routeList>";
                send(
                    &e,
                    "rome",
                    As::Role("read-write"),
                    "POST",
                    "/ROME/webresources/hrs/replace/route",
                    Some(("application/xml", body.as_bytes().to_vec())),
                )
                .await;
                let t = e.api("rome").unwrap().table("route").unwrap();
                t.snapshot()
                    .keys()
                    .any(|k| k.to_string().starts_with("900"))
                    .to_string()
            })
        }),
        ("wrong-error-envelope", "application/json", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::Role("monitor"),
                    "GET",
                    "/api/v1/no-such-thing",
                    None,
                )
                .await
                .header("content-type")
                .unwrap_or_default()
            })
        }),
        ("swapped-result-code", "1206", |e| {
            Box::pin(async move {
                let a = json_call(
                    &e,
                    "roaming-profile",
                    "reseller",
                    "POST",
                    "/api/modifyRoamingProfile",
                    json!({"roamingProfileInfo": {"roamingProfileId": "101", "status": "0"}}),
                )
                .await;
                a.json()["Response"]["resultParam"]["resultCode"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        }),
        ("malformed-xml-500", "400", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "PUT",
                    "/sipxconfig/rest/branch",
                    Some(("application/xml", b"<branch><name>".to_vec())),
                )
                .await
                .status
                .to_string()
            })
        }),
        ("malformed-json-500", "400", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::Role("administrator"),
                    "POST",
                    "/api/v1/actions/reset",
                    Some((
                        "application/json",
                        b"{\"saveConfiguration\": [1, 2".to_vec(),
                    )),
                )
                .await
                .status
                .to_string()
            })
        }),
        ("bad-cursor-500", "400", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "mediant",
                    As::Role("monitor"),
                    "GET",
                    "/api/v1/kpi/current?after=dialtone-not-a-cursor",
                    None,
                )
                .await
                .status
                .to_string()
            })
        }),
        ("xml-for-json", "application/json", |e| {
            Box::pin(async move {
                let mut r = request(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "GET",
                    "/sipxconfig/rest/branch/1",
                    None,
                );
                r.headers_mut()
                    .insert("accept", "application/json".parse().unwrap());
                read(e.handle(r).await)
                    .await
                    .header("content-type")
                    .unwrap_or_default()
            })
        }),
        ("ignore-accept", "406", |e| {
            Box::pin(async move {
                let mut r = request(
                    &e,
                    "mediant",
                    As::Role("monitor"),
                    "GET",
                    "/api/v1/alarms/active",
                    None,
                );
                r.headers_mut()
                    .insert("accept", "application/xml".parse().unwrap());
                read(e.handle(r).await).await.status.to_string()
            })
        }),
        ("state-ignored", "409", |e| {
            Box::pin(async move {
                e.api("mediant").unwrap().set_state("ha-sync", true);
                json_call(
                    &e,
                    "mediant",
                    "administrator",
                    "POST",
                    "/api/v1/files/create/debugFile",
                    json!({}),
                )
                .await
                .status
                .to_string()
            })
        }),
        ("job-never-ready", "201", |e| {
            Box::pin(async move {
                let a = json_call(
                    &e,
                    "mediant",
                    "administrator",
                    "POST",
                    "/api/v1/files/create/debugFile",
                    json!({}),
                )
                .await;
                let loc = a.header("location").unwrap();
                let mut last = 0;
                for _ in 0..6 {
                    last = send(&e, "mediant", As::Role("administrator"), "GET", &loc, None)
                        .await
                        .status;
                }
                last.to_string()
            })
        }),
        ("delete-referenced", "1210", |e| {
            Box::pin(async move {
                let a = json_call(
                    &e,
                    "roaming-profile",
                    "reseller",
                    "POST",
                    "/api/deleteRoamingProfile",
                    json!({"roamingProfileInfo": {"roamingProfileId": "101"}}),
                )
                .await;
                a.json()["Response"]["resultParam"]["resultCode"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        }),
        ("client-ids-honoured", "false", |e| {
            Box::pin(async move {
                json_call(
                    &e,
                    "sipxconfig",
                    "superadmin",
                    "PUT",
                    "/sipxconfig/rest/branch",
                    json!({"branch": {"id": 77, "name": "n"}}),
                )
                .await;
                let t = e.api("sipxconfig").unwrap().table("branches").unwrap();
                t.get(&dialtone::emulator::store::Key::Int(77))
                    .is_some()
                    .to_string()
            })
        }),
        ("oversize-accepted", "413", |e| {
            Box::pin(async move {
                let big = vec![b' '; dialtone::contract::DEFAULT_MAX_BODY + 1];
                send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "PUT",
                    "/sipxconfig/rest/branch",
                    Some(("application/json", big)),
                )
                .await
                .status
                .to_string()
            })
        }),
    ]
}

async fn mediant_get(e: &Emulator, path: &str) -> serde_json::Value {
    send(e, "mediant", As::Role("monitor"), "GET", path, None)
        .await
        .json()
}

/// A second create of one name: the roaming-profile API's duplicate (1203).
async fn roaming_duplicate(e: &Emulator) -> serde_json::Value {
    let body = json!({"roamingProfileInfo": {"roamingProfileName": "dup", "destinationGroupId": "41", "status": "1"}});
    for _ in 0..2 {
        let a = json_call(
            e,
            "roaming-profile",
            "reseller",
            "POST",
            "/api/createRoamingProfile",
            body.clone(),
        )
        .await;
        if a.json()["Response"]["resultParam"]["resultDescription"]
            .as_str()
            .is_some_and(|d| d.contains("Duplicate"))
        {
            return a.json();
        }
    }
    serde_json::Value::Null
}

/// The `Location` of a debug-file creation, if any.
async fn debug_location(e: &Emulator) -> Option<String> {
    json_call(
        e,
        "mediant",
        "administrator",
        "POST",
        "/api/v1/files/create/debugFile",
        json!({}),
    )
    .await
    .header("location")
}

/// Probes of the body-level faults (issue 13).
fn body_probes() -> Vec<(&'static str, &'static str, Probe)> {
    vec![
        ("drop-required-field", "true", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api").await["versions"][0]
                    .get("status")
                    .is_some()
                    .to_string()
            })
        }),
        ("number-as-string", "true", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api/v1/status").await["systemUpTime"]
                    .is_number()
                    .to_string()
            })
        }),
        ("value-outside-enum", "UNLOCKED", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api/v1/status").await["operationalState"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
        }),
        ("malformed-date", "false", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api/v1/status").await["localTimeStamp"]
                    .as_str()
                    .unwrap_or("")
                    .contains("-13-45")
                    .to_string()
            })
        }),
        ("list-as-object", "true", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api").await["versions"]
                    .is_array()
                    .to_string()
            })
        }),
        ("extra-wrapper", "true", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api")
                    .await
                    .get("versions")
                    .is_some()
                    .to_string()
            })
        }),
        ("xml-element-renamed", "branch", |e| {
            Box::pin(async move {
                let a = send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "GET",
                    "/sipxconfig/rest/branch",
                    None,
                )
                .await;
                dialtone::codec::from_xml(&a.body)
                    .map(|(root, _)| root)
                    .unwrap_or_default()
            })
        }),
        ("code-swapped-message-kept", "1203", |e| {
            Box::pin(async move {
                // The duplicate's message stays; its code is what the fault swaps.
                let v = roaming_duplicate(&e).await;
                v["Response"]["resultParam"]["resultCode"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
        }),
        ("missing-location", "true", |e| {
            Box::pin(async move { debug_location(&e).await.is_some().to_string() })
        }),
        ("location-nowhere", "true", |e| {
            Box::pin(async move {
                debug_location(&e)
                    .await
                    .is_some_and(|l| l.starts_with("/api/v1/files/status/"))
                    .to_string()
            })
        }),
        ("error-without-code", "true", |e| {
            Box::pin(async move {
                roaming_duplicate(&e).await["Response"]["resultParam"]
                    .get("resultCode")
                    .is_some()
                    .to_string()
            })
        }),
        ("path-filter-ignored", "1", |e| {
            Box::pin(async move {
                let a = send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "GET",
                    "/sipxconfig/api/registrations/ip/192.168.1.70",
                    None,
                )
                .await;
                a.text().matches("callId").count().to_string()
            })
        }),
        ("drop-optional-field", "true", |e| {
            Box::pin(async move {
                send(
                    &e,
                    "sipxconfig",
                    As::Role("superadmin"),
                    "GET",
                    "/sipxconfig/rest/branch",
                    None,
                )
                .await
                .text()
                .contains("faxNumber")
                .to_string()
            })
        }),
        ("success-as-error", "true", |e| {
            Box::pin(async move {
                mediant_get(&e, "/api/v1/status")
                    .await
                    .get("operationalState")
                    .is_some()
                    .to_string()
            })
        }),
    ]
}

#[tokio::test]
async fn every_fault_is_observable_and_the_conformant_answer_is_documented() {
    let all = ["mediant", "sipxconfig", "rome", "roaming-profile"];
    let mut probes = probes();
    probes.extend(body_probes());
    for (_, f) in CATALOGUE {
        assert!(
            probes.iter().any(|(n, _, _)| *n == f.name),
            "no probe for fault {}",
            f.name
        );
    }
    for (name, conformant, probe) in probes {
        assert!(
            CATALOGUE.iter().any(|(_, f)| f.name == name),
            "probe for unknown fault {name}"
        );
        let good = probe(emulator(&all, &[])).await;
        let bad = probe(emulator(&all, &[name])).await;
        assert_eq!(good, conformant, "{name}: the conformant emulator's answer");
        assert_ne!(good, bad, "{name}: the fault changes nothing observable");
    }
}
