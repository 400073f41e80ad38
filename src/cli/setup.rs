//! What `run` and `fuzz` share before their first request: the checks of the target flags,
//! the specs, the targets (a device, or the bundled emulators started here, see
//! [`Targets::start`]) and the runner options those flags decide.

use std::time::Duration;

use anyhow::{bail, Result};

use super::args::{AllowClass, TargetArgs};
use super::load_named_with;
use dialtone::emulator::faults::Faults;
use dialtone::harness::{Against, Targets};
use dialtone::profile::Profile;
use dialtone::runner::{ClientOptions, Options};
use dialtone::spec::Spec;

/// A command ready for its first request.
pub(super) struct Setup {
    pub(super) specs: Vec<Spec>,
    pub(super) targets: Targets,
    /// The options the shared flags decide; the command adds its own.
    pub(super) options: Options,
}

impl TargetArgs {
    /// Check the flags (`bad_times` is the command's complaint about its own time flags,
    /// when they are wrong), load the specs, then what else the command needs (`more`),
    /// and start the targets.
    pub(super) fn set_up<T>(
        &self,
        bad_times: Option<&str>,
        more: impl FnOnce() -> Result<T>,
    ) -> Result<(Setup, T)> {
        if self.target.is_some() && !self.faults.is_empty() {
            bail!("--fault applies to the bundled emulator; it cannot be combined with --target");
        }
        if let Some(complaint) = bad_times {
            bail!("{complaint}");
        }
        if self.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
            bail!("--rate must be a positive number of requests per second");
        }
        let faults = Faults::parse(&self.faults).map_err(anyhow::Error::msg)?;
        if (self.target.is_some() || self.profile.is_some()) && !self.emulator_overlays.is_empty() {
            bail!("--emulator-overlay applies to the bundled emulator; it cannot be combined with --target or --profile");
        }
        let specs = load_named_with(&self.spec, &self.overlays)?;
        let more = more()?;
        let targets = Targets::start(self.against(&specs, faults)?)?;
        let setup = Setup {
            specs,
            targets,
            options: self.options(),
        };
        Ok((setup, more))
    }

    /// Where the tests go: the device of `--profile` (at `--target`'s URL, if given) or of
    /// `--target` alone, or else one bundled emulator per spec.
    fn against(&self, specs: &[Spec], faults: Faults) -> Result<Against> {
        let apis = || specs.iter().map(|s| s.name().to_string()).collect();
        if let Some(url) = &self.target {
            // Checked before anything prints it: a user or password in it would show in
            // every report, and would pass over the profile's accounts.
            if let Err(why) = dialtone::profile::check_url(url) {
                bail!("--target: the URL {why}");
            }
        }
        Ok(match (&self.profile, &self.target) {
            (Some(p), target) => {
                let mut profile = Profile::load(p)?;
                profile.check_against(&specs.iter().collect::<Vec<_>>())?;
                if let Some(url) = target {
                    profile.target.url = url.to_string();
                }
                Against::Device {
                    profile,
                    apis: apis(),
                }
            }
            (None, Some(url)) => {
                let profile = Profile::parse(
                    &format!("[target]\nurl = {}\n", toml::Value::String(url.to_string())),
                    std::path::Path::new("<--target>"),
                )?;
                Against::Device {
                    profile,
                    apis: apis(),
                }
            }
            (None, None) => Against::Emulators {
                specs: load_named_with(&self.spec, &self.emulator_overlays)?,
                faults,
                body_limit: self.body_limit,
            },
        })
    }

    /// The runner options these flags decide.
    pub(super) fn options(&self) -> Options {
        Options {
            allow_write: self.allow.contains(&AllowClass::Write)
                || self.allow.contains(&AllowClass::Disruptive),
            allow_disruptive: self.allow.contains(&AllowClass::Disruptive),
            client: ClientOptions {
                timeout: Duration::from_secs_f64(self.timeout),
                max_body: self.max_body,
                rate: self.rate,
                proxy: self.proxy.clone(),
            },
            body_limit: self.body_limit,
            ..Options::default()
        }
    }
}
