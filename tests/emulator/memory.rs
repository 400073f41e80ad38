//! The `dialtone` binary's emulator gives the memory of a refused large upload back to the OS,
//! and streams a large download without holding it whole. It runs the real binary (its
//! global allocator is mimalloc, which the test harness does not use) and reads the child's
//! resident size from `/proc`, so it is Linux only.

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

/// The real emulator serving ROME, and its URL once it is listening.
fn start(name: &str) -> (Emulator, String) {
    let dir = scratch_dir(name);
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
    (emu, url)
}

#[test]
fn memory_of_a_refused_large_upload_goes_back_to_the_os() {
    let (emu, url) = start("memory-return");
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

/// Routes generated for the download: about 1,000,000 small routes (well under the
/// generate cap), some 130 MB of XML.
const DOWNLOAD_ROUTES: u64 = 1_000_000;

/// The most a streamed download may add to the emulator's resident size: the rows'
/// references (8 bytes each), a chunk and the allocator's slack (measured: 8 MiB). Built
/// whole, the same answer took 2.2 GiB more (every row as a JSON tree, then the whole
/// body), which this test caught.
const DOWNLOAD_GROWTH_MIB: u64 = 96;

#[test]
fn a_large_unpaged_download_is_streamed_in_little_memory() {
    let (emu, url) = start("memory-download");
    let pid = emu.0.id();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let t = Instant::now();
    let status = rt.block_on(async {
        client
            .post(format!(
                "{url}/_dialtone/rome/collections/route/generate?count={DOWNLOAD_ROUTES}"
            ))
            .send()
            .await
            .expect("an answer")
            .status()
    });
    assert_eq!(status.as_u16(), 200, "generate");
    let generated = t.elapsed();
    let before = rss_kib(pid);
    // Sample the resident size while the download runs.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_kib(pid))
        })
    };
    let t = Instant::now();
    let (status, chunked, bytes, tail) = rt.block_on(async {
        let mut r = client
            .get(format!("{url}/ROME/webresources/hrs/download/route"))
            .basic_auth("rome-rw", Some("rome-rw-dialtone"))
            .send()
            .await
            .expect("an answer");
        let status = r.status().as_u16();
        let chunked = r.content_length().is_none();
        let mut bytes = 0usize;
        let mut tail = Vec::new();
        while let Some(c) = r.chunk().await.expect("the body") {
            bytes += c.len();
            tail.extend_from_slice(&c);
            let keep = tail.len().saturating_sub(64);
            tail.drain(..keep);
        }
        (status, chunked, bytes, tail)
    });
    let took = t.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let growth = peak.saturating_sub(before) / 1024;
    eprintln!(
        "{DOWNLOAD_ROUTES} routes: generated in {generated:.1?}; resident {} MiB before the \
         download, peak {} MiB (+{growth} MiB); {bytes} bytes in {took:.1?}, chunked: {chunked}",
        before / 1024,
        peak / 1024
    );
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&tail).ends_with("</route></routeList>"),
        "the body ends the list: {}",
        String::from_utf8_lossy(&tail)
    );
    assert!(bytes > DOWNLOAD_ROUTES as usize * 100, "{bytes} bytes");
    assert!(
        growth <= DOWNLOAD_GROWTH_MIB,
        "the download of {DOWNLOAD_ROUTES} routes took {growth} MiB more than the table \
         (at most {DOWNLOAD_GROWTH_MIB} MiB)"
    );
    assert!(chunked, "a streamed body has no Content-Length");
}
