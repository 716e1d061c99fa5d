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
    let (_, region) = super::pool_target(&manifest, settings);
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
            Ok((role.name, role.arn, role.created))
        } else {
            match iam.inspect(wanted).await? {
                None => Err(RoleError::Missing { role: wanted.role.to_owned() }.into()),
                Some(state) if !state.findings.is_empty() => {
                    Err(RoleError::Unusable { arn: state.arn, findings: state.findings }.into())
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
