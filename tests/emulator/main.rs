//! The emulator, driven in-process (no socket) and over loopback HTTP and HTTPS, and its
//! listener on its own (plain and TLS, timeouts, limits, shutdown).
//!
//! The matrix test replays every matrix cell of every bundled spec's plan against the
//! emulator and checks the preferred outcome: this is the emulator's conformance to its own
//! specs. The other tests cover stateful behaviour, completeness and atomicity, cursors,
//! device states, jobs, robustness and faults, for each API.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod bombs;
mod export;
mod faults;
mod gaps;
mod http;
mod inprocess;
mod memory;
mod path_fill;
mod peer;
mod server;
mod shapes;
mod stream;
