//! Targets for the text formats: spec TOML and target profiles.

use std::path::Path;

use super::assert_inside;
use crate::profile::{Profile, ProfileError};

/// Spec TOML: `dialtone::load_str` on the input (non-UTF-8 input is read lossily). Every
/// diagnostic names the file and a line:col inside the text. A spec that loads gives the
/// same plan and the same OpenAPI export twice.
pub fn spec_load(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match crate::load_str("fuzz.toml", &text) {
        Err(diags) => {
            assert!(!diags.is_empty(), "a refused spec has diagnostics");
            for d in &diags {
                assert_eq!(d.file, Path::new("fuzz.toml"), "{d}");
                assert_inside(text.as_bytes(), d.line, d.col, d);
            }
        }
        Ok(spec) => {
            let plan = crate::plan::plan(&spec);
            assert_eq!(
                plan,
                crate::plan::plan(&spec),
                "the plan is not deterministic"
            );
            let mut ids = std::collections::HashSet::new();
            for e in &plan {
                assert!(ids.insert(&e.id), "test id {} occurs twice", e.id);
            }
            let export = crate::export::openapi::export(&[&spec]);
            assert_eq!(
                export,
                crate::export::openapi::export(&[&spec]),
                "the export is not deterministic"
            );
        }
    }
}

/// Target profiles: `Profile::parse` → `to_toml` → `parse` gives an equal profile; no
/// plain password or token shows in the profile's `Debug`; errors point inside the text.
pub fn profile_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz-profile.toml");
    let profile = match Profile::parse(text, path) {
        Ok(p) => p,
        Err(ProfileError::Parse { line, col, .. } | ProfileError::Invalid { line, col, .. }) => {
            return assert_inside(data, line, col, &"profile error");
        }
        Err(e) => panic!("parsing text gave a non-parse error: {e}"),
    };
    let toml = profile.to_toml();
    let back = Profile::parse(&toml, path)
        .unwrap_or_else(|e| panic!("to_toml wrote a profile parse refuses: {e}\n{toml}"));
    assert_eq!(back, profile, "profile round trip changed it\n{toml}");
    assert_eq!(back.to_toml(), toml, "to_toml is not stable");

    // Debug must not depend on the secret values: change every one and compare.
    let mut other = profile.clone();
    let mut any = false;
    for a in other.accounts.values_mut() {
        for s in [&mut a.password, &mut a.token].into_iter().flatten() {
            s.push_str("-changed");
            any = true;
        }
    }
    if any {
        assert_eq!(
            format!("{profile:?}"),
            format!("{other:?}"),
            "a secret shows in the profile's Debug"
        );
    }
}
