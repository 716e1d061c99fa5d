//! `validate`: the offline checks, and nothing else. Never touches the network or a file
//! other than the manifest.

use miette::IntoDiagnostic;

use crate::cli::ValidateArgs;
use crate::error::ExitStatus;
use crate::manifest;
use crate::output::{Printer, Role};
use crate::settings::Settings;

pub fn run(args: &ValidateArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let manifest = load_valid(&args.manifest)?;
    let paint = printer.stdout_paint;
    let pool = settings.aws.pool_id.as_deref().unwrap_or(&manifest.pool_id);
    let users = match manifest.users.len() {
        1 => "1 user".to_owned(),
        n => format!("{n} users"),
    };
    printer
        .data(&format!(
            "{} `{}` is valid: {users} for pool `{}`\n",
            paint.paint(Role::Create, "ok:"),
            manifest.source.display_name(),
            paint.paint(Role::Name, pool),
        ))
        .into_diagnostic()?;
    Ok(ExitStatus::Success)
}

/// Loads and validates a manifest; the first step of every command that reads one.
pub fn load_valid(path: &std::path::Path) -> Result<manifest::ValidManifest, manifest::ManifestError> {
    let (source, raw) = manifest::load(path)?;
    manifest::validate(&source, raw)
}
