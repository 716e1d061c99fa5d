//! One module per subcommand; each returns the exit status or an error to report.

mod apply;
mod plan;
mod role;
mod schema;
mod validate;

use crate::cli::Command;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::settings::Settings;

pub fn run(command: Command, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    match command {
        Command::Validate(args) => validate::run(&args, settings, printer),
        Command::Schema => schema::run(printer),
        Command::Plan(args) => plan::run(&args, settings, printer),
        Command::Apply(args) => apply::run(&args, settings, printer),
        Command::Role(args) => role::run(&args, settings, printer),
    }
}

/// Runs a future to completion on a current-thread runtime: commands are synchronous, and
/// only their AWS calls are async.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can be built")
        .block_on(future)
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
