//! The command line as clap parses it. Nothing here is interpreted: `settings` resolves it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_STATUS_HELP;

/// Manage the users of AWS Cognito user pools from a versioned YAML manifest.
///
/// Declare users in `users.yaml`, review `cognito-sync plan` in a pull request, and let CI
/// run `cognito-sync apply` after merge: it imports the missing users with one Cognito
/// import job through one shared IAM role. It only ever creates users.
#[derive(Debug, Parser)]
#[command(name = "cognito-sync", version, after_help = EXIT_STATUS_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that every command takes, named as in the AWS CLI.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile to use (default: the standard chain, e.g. `AWS_PROFILE`)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: the manifest's pool id prefix, then `AWS_REGION`)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS requests to this endpoint, e.g. a local emulator (also `AWS_ENDPOINT_URL`)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The user pool id; overrides the manifest's `pool.id`
    #[arg(long, global = true, value_name = "ID", env = crate::env::POOL_ID)]
    pub pool_id: Option<String>,
    /// When to use colour (`NO_COLOR` is honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Say more on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Say only errors and results
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a manifest offline; never calls AWS
    Validate(ValidateArgs),
    /// Print the manifest's JSON Schema
    Schema,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The manifest
    #[arg(default_value = crate::manifest::DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
}
