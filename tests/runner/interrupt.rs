//! Ctrl-C: a run against a device (an emulator treated as one: no control interface) that
//! is allowed to write, interrupted while it runs, finishes the test in flight and its
//! clean-up, writes its reports with what ran, and leaves no object it created behind.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::scratch_dir;

/// The roaming profiles the emulator at `url` holds, as its GET answers them.
fn profiles(url: &str, token: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "GET /api/GetRoamingProfile HTTP/1.1\r\nHost: {addr}\r\nX-Authorization: Bearer {token}\r\n\
         X-Requested-With: XMLHttpRequest\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn wait_for_profile(p: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(p).is_ok_and(|t| t.contains("[accounts.") && t.ends_with('\n')) {
        assert!(Instant::now() < deadline, "no profile");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_interrupted_device_run_cleans_up_and_writes_its_reports() {
    let dir = scratch_dir("interrupt");
    let emu_profile = dir.join("emu.toml");
    let _ = std::fs::remove_file(&emu_profile);
    let mut emulator = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["emulate", "--spec", "roaming-profile", "--write-profile"])
        .arg(&emu_profile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_profile(&emu_profile);
    let text = std::fs::read_to_string(&emu_profile).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("url = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let token = "dialtone-roaming-profile-reseller-token";
    let before = profiles(&url, token);
    // The same emulator, as a device: no control interface, writes only with --allow.
    let device = text
        .replace("emulator = true", "emulator = false")
        .replace(
            "token = \"dialtone-roaming-profile-enterprise-token\"",
            "token_env = \"DT_ENTERPRISE\"",
        )
        .replace(
            "token = \"dialtone-roaming-profile-reseller-token\"",
            "token_env = \"DT_RESELLER\"",
        );
    let dev_profile = dir.join("device.toml");
    std::fs::write(&dev_profile, device).unwrap();
    let json = dir.join("r.json");
    let _ = std::fs::remove_file(&json);
    let run = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .current_dir(&dir)
        .env("DT_ENTERPRISE", "dialtone-roaming-profile-enterprise-token")
        .env("DT_RESELLER", token)
        .args([
            "run",
            "--spec",
            "roaming-profile",
            "--allow",
            "write",
            "--rate",
            "8",
            "-q",
            // The creates: objects the run makes, and must take away again.
            "roaming-profile/create/",
            "--json",
        ])
        .arg(&json)
        .arg("--profile")
        .arg(&dev_profile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt while the device holds an object the run created (between a create and
    // its clean-up).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !profiles(&url, token).contains("dialtone-") {
        assert!(
            Instant::now() < deadline,
            "the run created nothing to interrupt"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = run.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = run.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("interrupted"), "{said}");
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "{:?}\n{said}",
        out.status
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    let interrupted = results
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.contains("interrupted"))
        })
        .count();
    let ran = results.iter().filter(|r| r["verdict"] == "pass").count();
    assert!(
        interrupted > 0 && ran > 0,
        "{interrupted} interrupted, {ran} passed"
    );
    // Nothing dialtone created is left, and what was there is there as it was.
    let after = profiles(&url, token);
    let body = |http: &str| http.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    assert!(!body(&after).contains("dialtone-"), "left behind: {after}");
    assert_eq!(body(&before), body(&after));
    let _ = emulator.kill();
    let _ = emulator.wait();
}
