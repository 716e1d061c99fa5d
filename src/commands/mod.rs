//! One module per subcommand; each returns the exit status or an error to report.

mod apply;
mod completions;
mod export;
mod jobs;
mod plan;
mod role;
mod schema;
mod validate;

use std::sync::Arc;

use crate::cli::Command;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::pace::Pacer;
use crate::settings::Settings;

pub fn run(command: Command, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    if matches!(command, Command::Validate(_) | Command::Schema | Command::Completions(_) | Command::Man) {
        refuse_aws_flags(settings)?;
    }
    match command {
        Command::Validate(args) => validate::run(&args, settings, printer),
        Command::Schema => schema::run(printer),
        Command::Plan(args) => plan::run(&args, settings, printer),
        Command::Apply(args) => apply::run(&args, settings, printer),
        Command::Role(args) => role::run(&args, settings, printer),
        Command::Export(args) => export::run(&args, settings, printer),
        Command::Jobs(args) => jobs::run(&args, settings, printer),
        Command::Completions(args) => completions::completions(&args, printer),
        Command::Man => completions::man(printer),
    }
}

/// The offline commands refuse the flags that only say where AWS requests go, as Terraform
/// refuses a flag a command does not take: accepting one silently would let the user believe
/// it did something (e.g. that `validate --region` checked the pool).
fn refuse_aws_flags(settings: &Settings) -> miette::Result<()> {
    let given = [
        ("--profile", settings.aws.profile.is_some()),
        ("--region", settings.aws.region.is_some()),
        ("--endpoint-url", settings.aws.endpoint_url.is_some()),
        ("--max-rps", settings.pace.cap.is_some() || !settings.pace.rates.is_empty()),
        ("--quota-share", settings.pace.share != crate::pace::DEFAULT_SHARE),
    ];
    let given: Vec<&str> = given.iter().filter(|(_, set)| *set).map(|(flag, _)| *flag).collect();
    if given.is_empty() {
        return Ok(());
    }
    let flags = given.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
    let help = if settings.command == "validate" {
        "drop it: `validate` checks the manifest offline; `cognito-sync plan` reads the pool and checks the manifest against it"
    } else {
        "drop it: this command never calls AWS"
    };
    miette::bail!(help = help, "`{}` never calls AWS, so it does not take {flags}", settings.command)
}

/// The run's one pacer (`--max-rps`, `--quota-share`), shared by every adapter; with `-v` it
/// tells when it slows down.
pub(crate) fn pacer(settings: &Settings) -> Arc<Pacer> {
    // Back-off jitter only: the clock is seed enough.
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    Arc::new(Pacer::new(settings.pace.clone(), Some(Printer::new(settings)), seed))
}

/// Runs a command's AWS work to completion on a current-thread runtime: commands are
/// synchronous, and only their AWS calls are async. Ctrl-C and SIGTERM drop the work cleanly, so that
/// its temporary files (the import CSV, a half-written export) are removed, and ends the
/// command with an error; `apply` run again resumes where it stopped.
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = miette::Result<T>>) -> miette::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can be built");
    runtime.block_on(async {
        tokio::select! {
            result = future => result,
            _ = tokio::signal::ctrl_c() => Err(interrupted("interrupted")),
            _ = terminated() => Err(interrupted("terminated")),
        }
    })
}

fn interrupted(what: &str) -> miette::Report {
    miette::miette!(help = "run the command again: `apply` resumes the import job it had made", "{what}")
}

/// SIGTERM (a CI runner cancelling the job, `kill`): handled like Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// The pool and region a command works on: `--pool-id` over the manifest's pool, and
/// `--region` over the pool id's own region (a pool id names its region; the manifest's
/// `pool.region` counts only for the manifest's own pool).
pub(crate) fn pool_target(manifest: &crate::manifest::ValidManifest, settings: &Settings) -> (String, String) {
    let pool_id = settings.aws.pool_id.clone().unwrap_or_else(|| manifest.pool_id.clone());
    let region = match (&settings.aws.region, &settings.aws.pool_id) {
        (Some(region), _) => region.clone(),
        (None, Some(id)) => id.split_once('_').map_or_else(|| manifest.region.clone(), |(r, _)| r.to_owned()),
        (None, None) => manifest.region.clone(),
    };
    (pool_id, region)
}

/// The pool and region of a command that needs only a pool, not a manifest's users
/// (`export`, `jobs`): `--pool-id`, else the `pool.id` of `manifest` (only its top level is
/// read, so a manifest with a bad user still names its pool). The region is `--region`,
/// else the manifest's `pool.region` for the manifest's own pool, else the pool id's prefix.
pub(crate) fn pool_only_target(manifest: &std::path::Path, settings: &Settings) -> miette::Result<(String, String)> {
    let (pool_id, manifest_region) = match &settings.aws.pool_id {
        Some(id) => {
            validate::check_pool_id_flag(id)?;
            (id.clone(), None)
        }
        None if !manifest.exists() => {
            let by_id = settings.suggest([settings.command, "--pool-id", "POOL_ID"]);
            let help = match validate::nearby_manifest(manifest) {
                Some(found) => format!(
                    "did you mean `{}`? `{}`; or name the pool: `{by_id}` (or set `COGNITO_SYNC_POOL_ID`)",
                    found.display(),
                    settings.suggest([std::path::Path::new(settings.command), &found])
                ),
                None => format!(
                    "name the pool: `{by_id}` (or set `COGNITO_SYNC_POOL_ID`), or pass a manifest that names it"
                ),
            };
            miette::bail!(
                help = help,
                "failed to pick the pool: no `--pool-id`, and no manifest `{}` to read `pool.id` from",
                manifest.display()
            )
        }
        None => {
            let (_, raw) = crate::manifest::load(manifest)?;
            (raw.head.pool.id.trim().to_owned(), raw.head.pool.region)
        }
    };
    let region = settings
        .aws
        .region
        .clone()
        .or(manifest_region)
        .or_else(|| pool_id.split_once('_').map(|(region, _)| region.to_owned()))
        .unwrap_or_default();
    if !crate::manifest::validate::is_pool_id(&pool_id) {
        miette::bail!(
            help = "a pool id is the region, `_`, then letters and digits, e.g. `us-east-1_AbCdEf123` (see the pool's overview in the console)",
            "failed to pick the pool: `pool.id` in `{}` is `{pool_id}`, which is not a user pool id",
            manifest.display()
        );
    }
    Ok((pool_id, region))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::manifest::{SourceText, parse, validate};
    use crate::settings::Environment;

    fn target(args: &[&str]) -> (String, String) {
        let cli = Cli::try_parse_from(["cognito-sync"].iter().chain(args).chain(&["schema"])).unwrap();
        let settings = Settings::resolve(&cli.global, &Environment::default());
        let source = SourceText { path: "users.yaml".into(), text: "version: 1\npool:\n  id: eu-west-1_Abc\n".into() };
        let manifest = validate(&source, parse(&source).unwrap()).unwrap();
        pool_target(&manifest, &settings)
    }

    #[test]
    fn the_region_is_the_flag_then_the_pool_id_override_then_the_manifest() {
        assert_eq!(target(&[]), ("eu-west-1_Abc".to_owned(), "eu-west-1".to_owned()));
        assert_eq!(target(&["--pool-id", "us-east-2_Abc"]), ("us-east-2_Abc".to_owned(), "us-east-2".to_owned()));
        assert_eq!(target(&["--pool-id", "us-east-2_Abc", "--region", "ap-south-1"]).1, "ap-south-1");
    }
}
