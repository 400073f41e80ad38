//! The spec language and what is derived from it, without a running target: the linter's
//! diagnostics on broken fixtures (insta snapshots in `snapshots/` here), the plan, the
//! OpenAPI export, the property strategies against the emulator's field checks, and target
//! profiles, and the shape of the source tree (`tidy`).

#[path = "../common/mod.rs"]
mod common;

mod lint;
mod openapi;
mod overlay;
mod plan;
mod profile;
mod strategies;
mod tidy;
