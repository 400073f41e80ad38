//! The `dialtone` command line: parse the arguments, hand them to their command in [`cli`],
//! and turn the outcome into an exit code ([`dialtone::exit`]). Only the binary uses
//! `anyhow` and prints.

mod cli;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::args::{BaselineCmd, Cli, Cmd, ReportCmd, SnapshotCmd, VerifyCli};
use dialtone::exit;

/// mimalloc: the emulator allocates many small, short-lived objects per request, where
/// glibc's allocator contends on its arena locks (measured in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 2's option enum (`mimalloc.h`); libmimalloc-sys
/// does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Give freed memory back to the OS after 1 s instead of 10 ms: a large upload frees and
    // reallocates its per-item scratch memory constantly, and re-faulting it cost more than
    // parsing (docs/performance.md).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if raw.get(1).is_some_and(|a| a == "certify") && raw.get(2).is_some_and(|a| a == "verify") {
        let v = VerifyCli::parse_from(&raw[2..]);
        return finish(cli::certify::verify(&v.dir));
    }
    let args = Cli::parse();
    finish(dispatch(args))
}

/// The exit code of a command's outcome; an error is printed first.
fn finish(outcome: Result<u8>) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("dialtone: error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

/// Run the command `args` names; its exit code, or the error that stopped it.
fn dispatch(args: Cli) -> Result<u8> {
    match args.cmd {
        Cmd::Lint { paths, json } => cli::lint::lint(paths, json),
        Cmd::List {
            spec,
            json,
            counts,
            partition,
            overlays,
        } => cli::list::list(&spec, json, counts, partition, &overlays),
        Cmd::Report(ReportCmd::Merge {
            reports,
            json,
            junit,
            html,
            quiet,
        }) => cli::report::merge(&reports, json, junit, html, quiet),
        Cmd::Baseline(BaselineCmd::Write { from, out }) => cli::report::draft_baseline(&from, out),
        Cmd::Certify(run) => cli::certify::certify(&run),
        Cmd::Coverage(c) => cli::coverage::coverage(*c),
        Cmd::Export { format, spec } => cli::export::export(format, &spec),
        Cmd::Run(run) => cli::run::run(*run, false),
        Cmd::Snapshot(SnapshotCmd::Record { dir, run }) => cli::snapshot::record(dir, *run),
        Cmd::Snapshot(SnapshotCmd::Review {
            dir,
            accept_all,
            reject_all,
        }) => cli::snapshot::review(&dir, accept_all, reject_all),
        Cmd::Fuzz(fuzz) => cli::fuzz::fuzz(*fuzz),
        Cmd::Emulate {
            spec,
            listen,
            tls,
            faults,
            write_profile,
            overlays,
            list_faults,
        } => {
            if list_faults {
                return cli::emulate::print_faults();
            }
            let spec = spec.expect("clap requires --spec without --list-faults");
            cli::emulate::emulate(&spec, listen, tls, &faults, write_profile, &overlays)
        }
    }
}
