//! `role [--create]`: show the shared import role and whether Cognito can use it, or create
//! it when it is missing. For setups where CI may not write IAM: a person with IAM rights
//! runs `role --create` once, and `apply` then only finds and checks the role.

use miette::IntoDiagnostic;

use super::block_on;
use super::validate::load_manifest;
use crate::cli::RoleArgs;
use crate::error::ExitStatus;
use crate::output::{Printer, Role};
use crate::role::RoleError;
use crate::role::aws::{RoleIam, WantedRole};
use crate::settings::Settings;

pub fn run(args: &RoleArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    // An invalid manifest stops here, before any request.
    let manifest = load_manifest(&args.manifest, settings)?;
    let (_, region) = super::pool_target(&manifest, settings);
    let wanted = WantedRole { role: &manifest.role, region: &region, scoped_trust: manifest.scoped_trust };
    printer.detail(format_args!("role `{}`, logs in region `{region}`", wanted.role));
    let (name, arn, created) = block_on(async {
        let config = crate::aws::sdk_config(&settings.aws, Some(&region)).await;
        let iam = RoleIam::new(&config);
        if args.create {
            let role = iam.ensure(wanted).await.map_err(|e| with_hints(e, &args.manifest, settings))?;
            if role.completed {
                printer.warn(format_args!(
                    "role `{}` had no permissions policy (an earlier creation was interrupted): it was added",
                    role.name
                ));
            }
            Ok((role.name, role.arn, role.created))
        } else {
            match iam.inspect(wanted).await.map_err(|e| with_hints(e, &args.manifest, settings))? {
                None => Err(with_hints(RoleError::Missing { role: wanted.role.to_owned() }, &args.manifest, settings)),
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

/// A role error whose help suggests commands for `manifest`, with this run's AWS flags, so
/// that they run when pasted.
pub(crate) fn with_hints(error: RoleError, manifest: &std::path::Path, settings: &Settings) -> miette::Report {
    let create = settings.suggest([std::ffi::OsStr::new("role"), "--create".as_ref(), manifest.as_os_str()]);
    match error {
        RoleError::Missing { role } => miette::miette!(
            help = format!(
                "create it with `{create}`, or let `{}` create it",
                settings.suggest([std::ffi::OsStr::new("apply"), manifest.as_os_str()])
            ),
            "role `{role}` does not exist"
        ),
        RoleError::MissingArn { role, name } => miette::miette!(
            help = format!(
                "create it yourself, or set `import.role` to its name (`{name}`) in `{}` so that `{create}` creates it",
                manifest.display()
            ),
            "role `{role}` does not exist, and cognito-sync creates a role only from a name"
        ),
        other => other.into(),
    }
}
