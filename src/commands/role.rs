//! `role [--create]`: show the shared import role and whether Cognito can use it, or create
//! it when it is missing. For setups where CI may not write IAM: a person with IAM rights
//! runs `role --create` once, and `apply` then only finds and checks the role.

use miette::IntoDiagnostic;

use super::block_on;
use super::validate::load_valid;
use crate::cli::RoleArgs;
use crate::error::ExitStatus;
use crate::output::{Printer, Role};
use crate::role::RoleError;
use crate::role::aws::{RoleIam, WantedRole};
use crate::settings::Settings;

pub fn run(args: &RoleArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    // An invalid manifest stops here, before any request.
    let manifest = load_valid(&args.manifest)?;
    let region = region(settings, &manifest.region);
    let wanted = WantedRole { role: &manifest.role, region: &region, scoped_trust: manifest.scoped_trust };
    printer.detail(format_args!("role `{}`, logs in region `{region}`", wanted.role));
    let (name, arn, created) = block_on(async {
        let config = crate::aws::sdk_config(&settings.aws, Some(&region)).await;
        let iam = RoleIam::new(&config);
        if args.create {
            let role = iam.ensure(wanted).await?;
            if role.completed {
                printer.warn(format_args!(
                    "role `{}` had no permissions policy (an earlier creation was interrupted): it was added",
                    role.name
                ));
            }
            Ok::<_, RoleError>((role.name, role.arn, role.created))
        } else {
            match iam.inspect(wanted).await? {
                None => Err(RoleError::Missing { role: wanted.role.to_owned() }),
                Some(state) if !state.findings.is_empty() => {
                    Err(RoleError::Unusable { arn: state.arn, findings: state.findings })
                }
                Some(state) => Ok((state.name, state.arn, false)),
            }
        }
    })?;
    let paint = printer.stdout_paint;
    let what = if created { "created:" } else { "ok:" };
    printer
        .data(&format!(
            "{} role `{}` is ready for Cognito imports in `{region}`\n  arn: {arn}\n",
            paint.paint(Role::Create, what),
            paint.paint(Role::Name, &name),
        ))
        .into_diagnostic()?;
    Ok(ExitStatus::Success)
}

/// The region of the pool's logs: `--region`, else the prefix of a `--pool-id` override,
/// else the manifest's.
fn region(settings: &Settings, manifest_region: &str) -> String {
    let from_pool_id = settings
        .aws
        .pool_id
        .as_deref()
        .and_then(|id| id.split_once('_'))
        .map(|(region, _)| region)
        .filter(|r| !r.is_empty());
    settings.aws.region.as_deref().or(from_pool_id).unwrap_or(manifest_region).to_owned()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::settings::Environment;

    fn settings(args: &[&str]) -> Settings {
        let cli = Cli::try_parse_from(["cognito-sync"].iter().chain(args).chain(&["role"])).unwrap();
        Settings::resolve(&cli.global, &Environment::default())
    }

    #[test]
    fn the_region_is_the_flag_then_the_pool_id_override_then_the_manifest() {
        assert_eq!(region(&settings(&[]), "eu-west-1"), "eu-west-1");
        assert_eq!(region(&settings(&["--pool-id", "us-east-2_Abc"]), "eu-west-1"), "us-east-2");
        assert_eq!(
            region(&settings(&["--pool-id", "us-east-2_Abc", "--region", "ap-south-1"]), "eu-west-1"),
            "ap-south-1"
        );
    }
}
