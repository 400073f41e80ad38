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
        match dialtone::load(&path) {
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
    Ok(specs)
}
