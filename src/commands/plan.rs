//! `plan`: validate offline, read the pool once, diff, print. Never changes the pool; the
//! only files it writes are the ones asked for (`-o`, `--csv`), with mode 0600.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Context, IntoDiagnostic};

use crate::cli::{PlanArgs, PlanFormat, ReadChoice};
use crate::error::ExitStatus;
use crate::manifest::{ManifestError, ValidManifest};
use crate::output::Printer;
use crate::output::progress::Progress;
use crate::pace::Pacer;
use crate::password_hashes::HashFile;
use crate::plan::render::{RenderOptions, markdown, text};
use crate::plan::report::{report, write_json};
use crate::plan::{Plan, diff};
use crate::pool::aws::CognitoPool;
use crate::pool::{MembershipStrategy, ObservedPool, PoolError, PoolReader, ReadProgress, ReadStrategy, Wanted};
use crate::settings::Settings;

pub fn run(args: &PlanArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    // Offline first: an invalid manifest sends nothing.
    let manifest = super::validate::load_manifest(&args.manifest, settings)?;
    let hashes = load_hashes(args.password_hashes.as_deref(), &manifest, printer)?;
    let pacer = super::pacer(settings);
    let mut plan = super::block_on(read_plan(&manifest, settings, &pacer, args.read))?;
    pacer.print_report();
    if let Some(hashes) = &hashes {
        plan.attach_hashes(hashes);
    }

    match args.format {
        PlanFormat::Text => {
            printer.data(&text(&plan, RenderOptions { show_pii: args.show_pii, paint: printer.stdout_paint }))
        }
        // Streamed: the JSON of a plan of many new users is not held whole.
        PlanFormat::Json => printer.data_with(|out| write_json(&report(&plan, args.show_pii), &mut { out })),
        PlanFormat::Markdown => printer.data(&markdown(&plan, args.show_pii)),
    }
    .into_diagnostic()?;

    if let Some(path) = &args.output {
        // A saved plan is what `apply` imports: it keeps every value, hence mode 0600.
        crate::plan::saved::write(path, &plan)?;
        printer.status(format!("saved the plan to `{}` (mode 0600: it holds personal data)", path.display()));
    }
    if let Some(path) = &args.csv {
        write_csv(&plan, hashes.as_ref(), path, printer)?;
    }

    Ok(match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => ExitStatus::Changes,
        _ => ExitStatus::Success,
    })
}

/// Reads the pool that `manifest` names (or `--pool-id`) and diffs it: the plan, or the
/// pool-aware problems of the manifest as a located error. `forced` picks a read strategy
/// instead of the cheaper one. Shared by `plan` and `apply`.
pub(crate) async fn read_plan(
    manifest: &ValidManifest,
    settings: &Settings,
    pacer: &Arc<Pacer>,
    read: ReadChoice,
) -> miette::Result<Plan> {
    let (pool_id, region) = super::pool_target(manifest, settings);
    let wanted = Wanted::from_manifest(manifest);
    let observed = observe(&pool_id, &region, &wanted, settings, pacer, read).await?;
    Ok(diff(manifest, &observed).map_err(|problems| ManifestError::invalid(&manifest.source, problems))?)
}

/// One snapshot of the pool, with progress on stderr and the request count with `-v`.
async fn observe(
    pool_id: &str,
    region: &str,
    wanted: &Wanted,
    settings: &Settings,
    pacer: &Arc<Pacer>,
    read: ReadChoice,
) -> Result<ObservedPool, PoolError> {
    let forced = match read {
        ReadChoice::Auto => None,
        ReadChoice::ListAll | ReadChoice::ListOneChain => Some(ReadStrategy::ListAll),
        ReadChoice::LookUp => Some(ReadStrategy::LookUp),
    };
    let mut progress = Progress::new(settings, None, &reading(pool_id));
    let reader = CognitoPool::connect(&settings.aws, pool_id, region, Arc::clone(pacer))
        .await?
        .force_strategy(forced)
        .force_membership_strategy(forced_memberships())
        .one_chain(read == ReadChoice::ListOneChain);
    let observed = reader.snapshot(wanted, &mut |step| progress.update(step.done, &reading_step(pool_id, step))).await;
    progress.finish();
    let observed = observed?;
    Printer::new(settings).detail(read_with(pool_id, &reader.requests()));
    Ok(observed)
}

/// The membership read `COGNITO_SYNC_READ_GROUPS` forces (`group-walk`, `per-user`), if any.
pub(crate) fn forced_memberships() -> Option<MembershipStrategy> {
    match std::env::var(crate::env::READ_GROUPS).as_deref() {
        Ok("group-walk") => Some(MembershipStrategy::GroupWalk),
        Ok("per-user") => Some(MembershipStrategy::PerUser),
        _ => None,
    }
}

/// The progress message of a pool read, before its first request.
pub(crate) fn reading(pool_id: &str) -> String {
    format!("reading pool `{pool_id}`")
}

/// The progress message of a pool read, after `step`.
pub(crate) fn reading_step(pool_id: &str, step: ReadProgress) -> String {
    let what = match step.strategy {
        ReadStrategy::ListAll => "listing users",
        ReadStrategy::LookUp => "looking up declared users",
    };
    format!("reading pool `{pool_id}`: {what}, {}/{} requests", step.done, step.total)
}

/// What a pool read cost (`-v`).
pub(crate) fn read_with(pool_id: &str, requests: &std::collections::BTreeMap<&'static str, u64>) -> String {
    format!(
        "read pool `{pool_id}` with {}",
        requests.iter().map(|(op, n)| format!("{n} {op}")).collect::<Vec<_>>().join(", ")
    )
}

/// Reads and validates the password-hash file, if one is given, against the manifest's
/// users; warns when others can read it. Offline, like manifest validation.
pub(crate) fn load_hashes(
    path: Option<&Path>,
    manifest: &ValidManifest,
    printer: &Printer,
) -> miette::Result<Option<HashFile>> {
    let Some(path) = path else { return Ok(None) };
    let raw = crate::password_hashes::read(path)?;
    if let Some(warning) = crate::password_hashes::permission_warning(&raw) {
        printer.warn(warning);
    }
    let declared = manifest.users.iter().map(|u| u.username.as_str()).collect();
    Ok(Some(crate::password_hashes::parse(&raw, Some(&declared))?))
}

/// Writes the import CSV exactly as `apply` would upload it: `FILE`, and `FILE` with `-2`,
/// `-3`... before the extension when there is more than one job (Cognito's per-file limits,
/// or one job per password-hash algorithm). With nothing to import, the file holds the
/// header only. With password hashes, the files hold them: mode 0600, as always.
fn write_csv(plan: &Plan, hashes: Option<&HashFile>, path: &Path, printer: &Printer) -> miette::Result<()> {
    let header_only = {
        let mut line = plan.csv_header.join(",");
        line.push('\n');
        line.into_bytes()
    };
    let upload = plan.upload_files(hashes).map_err(|users| too_long_with_hash(&users))?;
    let files: Vec<&[u8]> =
        if upload.is_empty() { vec![&header_only] } else { upload.iter().map(|f| f.bytes.as_slice()).collect() };
    for (i, bytes) in files.iter().enumerate() {
        let target = if i == 0 { path.to_owned() } else { numbered(path, i + 1) };
        crate::import_file::write_private(&target, bytes)
            .into_diagnostic()
            .wrap_err_with(|| format!("failed to write the import CSV to `{}`", target.display()))?;
        printer.status(format!("wrote the import CSV to `{}` (mode 0600)", target.display()));
    }
    Ok(())
}

/// The error for users whose import row would exceed Cognito's limit once the hash is in it.
pub(crate) fn too_long_with_hash(users: &[String]) -> miette::Report {
    let shown: Vec<String> = users.iter().take(5).map(|u| format!("`{u}`")).collect();
    miette::miette!(
        help = "shorten these users' attribute values, or import them without a hash",
        "with its password hash, the import row of {} would be longer than Cognito's limit of {} characters",
        shown.join(", ") + if users.len() > 5 { ", ..." } else { "" },
        crate::import_file::MAX_ROW_CHARS
    )
}

fn numbered(path: &Path, n: usize) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}
