//! The `dialtone` binary's emulator gives the memory of a refused large upload back to the OS.
//! It runs the real binary (its global allocator is mimalloc, which the test harness does not
//! use) and reads the child's resident size from `/proc`, so it is Linux only.

#![cfg(target_os = "linux")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::scratch_dir;

/// Kills the emulator however the test ends.
struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// A zip of one XML member with `n` valid routes and a last one whose `maxLen` is not a
/// number: the emulator parses every item before it finds the bad one, then refuses the
/// whole upload.
fn refused_upload(n: usize) -> Vec<u8> {
    let mut xml = String::with_capacity(n * 170);
    xml.push_str("<routeList>");
    for i in 0..n {
        xml.push_str(&format!(
            "<route><tid>{}</tid><digitMatch>{}</digitMatch><alias>a{i}</alias><policy>top_down</policy><trunkIds>101</trunkIds><minLen>10</minLen><maxLen>11</maxLen></route>",
            10_000 + i,
            7_000_000 + i
        ));
    }
    xml.push_str("<route><tid>9</tid><digitMatch>9</digitMatch><alias>bad</alias><policy>top_down</policy><trunkIds>101</trunkIds><minLen>10</minLen><maxLen>eleven</maxLen></route></routeList>");
    dialtone::codec::write_zip(&[("routes.xml".to_string(), xml.into_bytes())])
}

#[test]
fn memory_of_a_refused_large_upload_goes_back_to_the_os() {
    let dir = scratch_dir("memory-return");
    let profile = dir.join("emu.toml");
    let child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["emulate", "--spec", "rome", "--write-profile"])
        .arg(&profile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let emu = Emulator(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        let text = std::fs::read_to_string(&profile).unwrap_or_default();
        if text.contains("[accounts.") && text.ends_with('\n') {
            let url = text.lines().find_map(|l| l.strip_prefix("url = "));
            break url
                .expect("url in the profile")
                .trim_matches('"')
                .to_string();
        }
        assert!(Instant::now() < deadline, "the emulator wrote no profile");
        std::thread::sleep(Duration::from_millis(100));
    };
    let pid = emu.0.id();
    let zip = refused_upload(150_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rss_kib(pid);
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/ROME/webresources/hrs/replaceLarge/route"))
            .basic_auth("rome-rw", Some("rome-rw-dialtone"))
            .header("Content-Type", "application/zip")
            .body(zip)
            .send()
            .await
            .expect("an answer")
            .status()
    });
    assert_eq!(
        status.as_u16(),
        400,
        "the bad last route refuses the upload"
    );
    // The upload's items took well over 100 MiB while they were parsed; once refused, the
    // process is back near where it started (not timed: the pages go back when the turn
    // ends, and a short wait only absorbs scheduling).
    let mut after = rss_kib(pid);
    let until = Instant::now() + Duration::from_secs(5);
    while after > before + 40 * 1024 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        after = rss_kib(pid);
    }
    assert!(
        after <= before + 40 * 1024,
        "resident {} MiB before the upload, {} MiB after its refusal",
        before / 1024,
        after / 1024
    );
}
