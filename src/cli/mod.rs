//! The commands of the `dialtone` binary, one file each, over what they share: the flags
//! (`args`), the loading of `--spec`, and the set-up of `run` and `fuzz` (`setup`). Only the
//! binary uses `anyhow` and prints.

pub(crate) mod args;
pub(crate) mod certify;
pub(crate) mod coverage;
pub(crate) mod emulate;
pub(crate) mod export;
pub(crate) mod fleet;
pub(crate) mod fuzz;
pub(crate) mod lint;
pub(crate) mod list;
pub(crate) mod report;
pub(crate) mod run;
mod setup;
pub(crate) mod snapshot;

use anyhow::{bail, Result};

use dialtone::spec::{self, Spec};

/// The specs `--spec` names: a bundled spec, `all` of them, or a path. A spec with
/// problems prints them and fails.
fn load_named(name: &str) -> Result<Vec<Spec>> {
    load_named_with(name, &[])
}

/// [`load_named`] with the product overlays in `overlays` applied, each to the spec it
/// names; an overlay for a spec that is not loaded is an error.
fn load_named_with(name: &str, overlays: &[std::path::PathBuf]) -> Result<Vec<Spec>> {
    let mut read = Vec::new();
    for p in overlays {
        match spec::overlay::Overlay::load(p) {
            Ok(o) => read.push(o),
            Err(diags) => {
                for d in &diags {
                    eprintln!("{d}");
                }
                bail!("overlay {} has {} problems", p.display(), diags.len());
            }
        }
    }
    let names: Vec<String> = if name == "all" {
        spec::BUNDLED.iter().map(|s| s.to_string()).collect()
    } else {
        vec![name.to_string()]
    };
    let mut specs = Vec::new();
    for n in names {
        let path = spec::resolve(&n);
        if !path.exists() {
            bail!(
                "--spec {n}: no such spec (bundled: {}, all; or a path)",
                spec::BUNDLED.join(", ")
            );
        }
        let mine: Vec<spec::overlay::Overlay> = read
            .iter()
            .filter(|o| o.meta.spec == n || o.meta.spec == path.display().to_string())
            .cloned()
            .collect();
        match dialtone::load_overlaid(&path, &mine) {
            Ok(s) => specs.push(s),
            Err(diags) => {
                for d in &diags {
                    eprintln!("{d}");
                }
                bail!(
                    "spec {} has {} problems; run `dialtone lint {}`",
                    path.display(),
                    diags.len(),
                    path.display()
                );
            }
        }
    }
    if let Some(o) = read
        .iter()
        .find(|o| !specs.iter().any(|s| s.name() == o.meta.spec))
    {
        bail!(
            "overlay {} is for spec `{}`, which --spec {name} does not load",
            o.path.display(),
            o.meta.spec
        );
    }
    Ok(specs)
}
