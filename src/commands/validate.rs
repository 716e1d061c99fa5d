//! `validate`: the offline checks, and nothing else. Never touches the network or a file
//! other than the manifest.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::cli::ValidateArgs;
use crate::error::ExitStatus;
use crate::manifest;
use crate::output::{Printer, Role};
use crate::settings::Settings;

pub fn run(args: &ValidateArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let manifest = load_manifest(&args.manifest, settings)?;
    let paint = printer.stdout_paint;
    let pool = settings.aws.pool_id.as_deref().unwrap_or(&manifest.pool_id);
    let users = crate::output::plural(manifest.users.len() as u64, "user", "users");
    // `rules.username_pattern` binds only users not yet in the pool, which only `plan` can
    // tell: name the users it would hold to the rule, so that `plan` is no surprise.
    if let Some(pattern) = &manifest.username_pattern {
        let off: Vec<&str> =
            manifest.users.iter().map(|u| u.username.as_str()).filter(|name| !pattern.regex.is_match(name)).collect();
        if !off.is_empty() {
            let shown: Vec<String> = off.iter().take(5).map(|name| format!("`{name}`")).collect();
            printer.warn(format_args!(
                "{} not match `rules.username_pattern` `{}`: {}{}; `plan` rejects {} unless already in the pool (existing users are exempt)",
                crate::output::plural(off.len() as u64, "username does", "usernames do"),
                pattern.text,
                shown.join(", "),
                if off.len() > shown.len() { ", ..." } else { "" },
                if off.len() == 1 { "it" } else { "each" },
            ));
        }
    }
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

/// [`load_valid`] for a command: a manifest that does not exist gets a hint that runs when
/// pasted (a manifest nearby with a similar name, or how to write one), and `--pool-id` is
/// checked offline like `pool.id`. A valid `--pool-id` replaces the manifest's pool, so a
/// bad `pool.id` (or `pool.region`, which belongs to it) does not block it: it is a warning.
pub fn load_manifest(path: &Path, settings: &Settings) -> miette::Result<manifest::ValidManifest> {
    if let Some(id) = &settings.aws.pool_id {
        check_pool_id_flag(id)?;
    }
    let (source, mut raw) = manifest::load(path).map_err(|mut error| {
        if let manifest::ManifestError::Read { source, help, .. } = &mut error
            && source.kind() == std::io::ErrorKind::NotFound
        {
            *help = missing_manifest_help(path, settings);
        }
        error
    })?;
    if let Some(id) = &settings.aws.pool_id {
        let own = raw.head.pool.id.trim();
        if !manifest::validate::is_pool_id(own) {
            crate::output::Printer::new(settings).warn(format_args!(
                "`pool.id` in `{}` (`{own}`) is not a user pool id; using `--pool-id {id}`",
                path.display()
            ));
        }
        raw.head.pool.id.clone_from(id);
        raw.head.pool.region = None;
    }
    Ok(manifest::validate(&source, raw)?)
}

/// `--pool-id` (or `COGNITO_SYNC_POOL_ID`) must look like a pool id, as `pool.id` must:
/// checked before any request.
pub(crate) fn check_pool_id_flag(id: &str) -> miette::Result<()> {
    if manifest::validate::is_pool_id(id) {
        return Ok(());
    }
    miette::bail!(
        help = "a pool id is the region, `_`, then letters and digits, e.g. `us-east-1_AbCdEf123` (see the pool's overview in the console)",
        "`--pool-id` (or `COGNITO_SYNC_POOL_ID`) is `{id}`, which is not a user pool id"
    )
}

/// The help for a manifest path that names no file.
fn missing_manifest_help(path: &Path, settings: &Settings) -> String {
    if let Some(found) = nearby_manifest(path) {
        return format!(
            "did you mean `{}`? `{}`",
            found.display(),
            settings.suggest([Path::new(settings.command), &found])
        );
    }
    let pool = settings.aws.pool_id.as_deref().unwrap_or("POOL_ID");
    format!(
        "write one from an existing pool with `{}`, or start from `examples/users.yaml` in cognito-sync's repository",
        settings.suggest([Path::new("export"), Path::new("--pool-id"), Path::new(pool), Path::new("-o"), path])
    )
}

/// The YAML file beside `path` (which names no file) that it most likely meant: the only
/// one there, or the one with the closest name.
pub(crate) fn nearby_manifest(path: &Path) -> Option<std::path::PathBuf> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let wanted = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut nearby: Vec<(f64, std::path::PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .map(|name| (strsim::jaro_winkler(&wanted, &name), path.with_file_name(name)))
        .collect();
    nearby.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    // The only YAML file there, or one with a close name (a typo, `user.yaml`).
    let only = nearby.len() == 1;
    nearby.into_iter().next().filter(|(score, _)| only || *score >= 0.8).map(|(_, found)| found)
}

/// Loads and validates a manifest; the first step of every command that reads one.
pub fn load_valid(path: &Path) -> Result<manifest::ValidManifest, manifest::ManifestError> {
    let (source, raw) = manifest::load(path)?;
    manifest::validate(&source, raw)
}
