//! `dialtone export`: a spec in another format (OpenAPI 3.1), on stdout.

use std::io::Write;

use anyhow::Result;

use super::args::ExportFormat;
use dialtone::exit;
use dialtone::spec::Spec;

pub(crate) fn export(format: ExportFormat, name: &str) -> Result<u8> {
    let specs = super::load_named(name)?;
    match format {
        ExportFormat::Openapi => {
            let refs: Vec<&Spec> = specs.iter().collect();
            let doc = dialtone::export::openapi::export(&refs);
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    Ok(exit::CLEAN)
}
