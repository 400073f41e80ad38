//! `dialtone emulate`: serve the bundled emulator until interrupted, or list its faults.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use dialtone::exit;

/// The fault catalogue, each fault with the rule it breaks and the tests that must fail.
pub(crate) fn print_faults() -> Result<u8> {
    let mut out = std::io::stdout().lock();
    for (_, f) in dialtone::emulator::faults::CATALOGUE {
        writeln!(out, "{}", f.name)?;
        writeln!(out, "    {}", f.description)?;
        writeln!(out, "    breaks: {}", f.rule)?;
        let pats: Vec<String> = f
            .violates
            .iter()
            .map(|(a, p)| format!("{a}: {p}"))
            .collect();
        writeln!(out, "    failing tests: {}", pats.join("; "))?;
    }
    Ok(exit::CLEAN)
}

/// Serve the bundled emulator for `name` on `listen` until Ctrl-C.
pub(crate) fn emulate(
    name: &str,
    listen: std::net::SocketAddr,
    tls: bool,
    faults: &[String],
    write_profile: Option<PathBuf>,
    overlays: &[PathBuf],
) -> Result<u8> {
    use dialtone::emulator::{faults::Faults, server, Emulator};
    let faults = Faults::parse(faults).map_err(anyhow::Error::msg)?;
    let specs = super::load_named_with(name, overlays)?;
    let api_names: Vec<String> = specs.iter().map(|s| s.name().to_string()).collect();
    let emu = std::sync::Arc::new(Emulator::new(specs, faults)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let opts = server::ServerOptions {
            listen,
            tls,
            ..Default::default()
        };
        let running = server::serve(emu.clone().router(), opts).await?;
        println!("{}", running.url);
        std::io::stdout().flush()?;
        if let Some(path) = write_profile {
            let mut profile = dialtone::profile::Profile::for_emulator(
                &emu.accounts(),
                &emu.api_names(),
                &running.url,
                tls,
            );
            if let Some(pem) = &running.cert_pem {
                // Trust the certificate made at start, rather than any certificate: the
                // profile then verifies the emulator as it would a lab device.
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("emulator");
                let ca = PathBuf::from(format!("{stem}-ca.pem"));
                let at = path.parent().unwrap_or(std::path::Path::new(".")).join(&ca);
                std::fs::write(&at, pem)
                    .with_context(|| format!("writing the certificate to {}", at.display()))?;
                profile.tls.insecure_skip_verify = false;
                profile.tls.ca_file = Some(ca);
            }
            std::fs::write(&path, profile.to_toml())
                .with_context(|| format!("writing the profile to {}", path.display()))?;
            eprintln!("dialtone: wrote target profile {}", path.display());
        }
        eprintln!(
            "dialtone: emulating {} (faults: {}); Ctrl-C stops",
            api_names.join(", "),
            {
                let f: Vec<&str> = emu.faults().iter().map(|f| f.info().name).collect();
                if f.is_empty() {
                    "none".to_string()
                } else {
                    f.join(", ")
                }
            }
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        running.shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::CLEAN)
}
