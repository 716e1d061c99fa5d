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
#[command(next_help_heading = "Global options")]
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
    /// Requests per second to Cognito: `N` caps every quota category, `CATEGORY=N` sets one
    /// category's rate (`user-list`, `user-read`, `user-resource-update`, `user-update`,
    /// `pool-read`, `import-job`); repeatable. Default: `--quota-share` of each quota
    #[arg(long, global = true, value_name = "[CATEGORY=]N", action = clap::ArgAction::Append)]
    pub max_rps: Vec<crate::pace::RateLimit>,
    /// Share of each Cognito quota (ListUsers 30/s, AdminGetUser 120/s...) to use, in
    /// percent: the production app shares the account's quotas [default: 50]
    #[arg(long, global = true, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quota_share: Option<u8>,
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
    /// Show which declared users are missing from the pool; reads the pool, changes nothing
    ///
    /// Validates the manifest offline first (an invalid manifest sends nothing), then reads
    /// the pool with the fewest requests and sorts every declared user into: to import, to
    /// change (a missing declared group membership or another enabled state), in sync,
    /// drifted (attributes shown, never updated). Declared groups missing from the pool are
    /// listed to create. Users and memberships in the pool but not in the manifest are
    /// counted and never touched. Personal data is masked unless `--show-pii`.
    Plan(PlanArgs),
    /// Show the shared IAM role that import jobs use, or create it with `--create`
    ///
    /// The role (`import.role`, default `cognito-sync-import`) lets Cognito write an import
    /// job's CloudWatch logs. An existing role is checked and what is wrong with it is
    /// explained; it is never changed or deleted. Exits 1 when the role is missing or wrong.
    Role(RoleArgs),
    /// Import the missing users: plan, confirm, one Cognito import job, report each user
    ///
    /// From a manifest it plans first and shows the plan; from a plan saved by `plan -o` it
    /// refuses a stale plan. It asks for confirmation on a terminal unless `--yes` (CI
    /// proceeds: the review happened on the pull request). It finds or creates the shared
    /// import role, uploads Cognito's CSV and watches the job to the end; every user Cognito
    /// skipped or failed is reported with Cognito's reason. Re-running an interrupted apply
    /// resumes its job instead of importing twice. Exits 1 if any user failed.
    Apply(ApplyArgs),
    /// Write a manifest from an existing pool, to adopt it: every user, sorted by username
    ///
    /// The pool is `--pool-id` (or `COGNITO_SYNC_POOL_ID`); without it, the `pool.id` of
    /// MANIFEST (default `users.yaml`), e.g. to refresh it with `export users.yaml -o
    /// users.yaml --force`. Each user gets its importable standard attributes (not `sub`) and custom
    /// attributes; a value a manifest cannot hold (a line break, an invalid email...) is left
    /// out with a warning, and a user the manifest cannot declare (no email and no phone) is
    /// skipped with a warning, so that the file always passes `validate` and `plan` on it
    /// shows nothing to do. The pool's groups (with their settings), each user's groups and
    /// `enabled: false` for disabled users are written too. `import`, `rules` and `defaults`
    /// are not written: add them by hand. Users are streamed page by page through a private temporary file, with
    /// progress on stderr.
    Export(ExportArgs),
    /// List the pool's recent import jobs, or show one job and its failed and skipped rows
    ///
    /// The pool is `--pool-id` or MANIFEST's `pool.id`. Without `JOB_ID`: the newest
    /// jobs first, with status, counts and creation time (UTC); `*` marks the jobs
    /// cognito-sync made (named `cognito-sync-...`). With `JOB_ID`: the job's details,
    /// Cognito's completion message, its CloudWatch log group, stream and console link,
    /// and every failed or skipped row from the log. The log numbers the rows of the
    /// uploaded CSV only; `apply`'s own report names the users. Exits 0 whatever the jobs'
    /// status, 1 only when they cannot be read.
    Jobs(JobsArgs),
    /// Print a shell completion script for bash, zsh or fish (also elvish, powershell)
    ///
    /// For example: `cognito-sync completions bash > ~/.local/share/bash-completion/completions/cognito-sync`,
    /// `cognito-sync completions zsh > ~/.zfunc/_cognito-sync`, or
    /// `cognito-sync completions fish > ~/.config/fish/completions/cognito-sync.fish`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, e.g. `cognito-sync man | man -l -`
    Man,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Validate(_) => "validate",
            Command::Schema => "schema",
            Command::Plan(_) => "plan",
            Command::Role(_) => "role",
            Command::Apply(_) => "apply",
            Command::Export(_) => "export",
            Command::Jobs(_) => "jobs",
            Command::Completions(_) => "completions",
            Command::Man => "man",
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The manifest whose `pool.id` names the pool when `--pool-id` is not given
    #[arg(value_name = "MANIFEST")]
    pub manifest_path: Option<PathBuf>,
    /// Write the manifest to FILE (mode 0600: it holds personal data) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long)]
    pub force: bool,
    /// The same as `MANIFEST` (the form of earlier versions)
    #[arg(long = "manifest", value_name = "MANIFEST", hide = true, conflicts_with = "manifest_path")]
    pub manifest_flag: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// The manifest whose `pool.id` names the pool when `--pool-id` is not given (default
    /// `users.yaml`); a lone `import-...` argument is a job id
    #[arg(value_name = "MANIFEST")]
    pub manifest_path: Option<PathBuf>,
    /// An import job id (`import-...`): show that job and its failed and skipped rows
    #[arg(value_name = "JOB_ID")]
    pub job_id: Option<String>,
    /// How to print on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, value_name = "FORMAT")]
    pub format: ReportFormat,
    /// Show at most N jobs, newest first (0: all)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// The same as `MANIFEST` (the form of earlier versions)
    #[arg(long = "manifest", value_name = "MANIFEST", hide = true)]
    pub manifest_flag: Option<PathBuf>,
}

impl JobsArgs {
    /// The manifest and the job id, from `jobs [MANIFEST] [JOB_ID]`: a lone argument that
    /// looks like a job id (`import-...`) and names no file is the job id.
    pub fn targets(&self) -> (PathBuf, Option<String>) {
        let default = || self.manifest_flag.clone().unwrap_or_else(|| crate::manifest::DEFAULT_MANIFEST.into());
        match (&self.manifest_path, &self.job_id) {
            (Some(first), None) if first.to_str().is_some_and(|f| f.starts_with("import-")) && !first.exists() => {
                (default(), first.to_str().map(str::to_owned))
            }
            (Some(manifest), job) => (manifest.clone(), job.clone()),
            (None, job) => (default(), job.clone()),
        }
    }
}

impl ExportArgs {
    /// The manifest that names the pool when `--pool-id` is not given.
    pub fn manifest(&self) -> PathBuf {
        self.manifest_path
            .clone()
            .or_else(|| self.manifest_flag.clone())
            .unwrap_or_else(|| crate::manifest::DEFAULT_MANIFEST.into())
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The manifest
    #[arg(default_value = crate::manifest::DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The manifest
    #[arg(default_value = crate::manifest::DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
    /// Create the role when it is missing (needs `iam:CreateRole`, `iam:TagRole` and
    /// `iam:PutRolePolicy`); an existing role is only checked
    #[arg(long)]
    pub create: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A manifest, or a plan saved by `plan -o` (a `.json` file)
    #[arg(default_value = crate::manifest::DEFAULT_MANIFEST, value_name = "MANIFEST | PLAN.json")]
    pub input: PathBuf,
    /// Do not ask for confirmation (needed without a terminal, e.g. in CI)
    #[arg(long, short = 'y', visible_alias = "auto-approve")]
    pub yes: bool,
    /// Refuse to import more than N users
    #[arg(long, value_name = "N")]
    pub max_new: Option<usize>,
    /// Refuse a plan with more than N changes to existing users (memberships to add,
    /// users to enable or disable), before any request that changes the pool
    #[arg(long, value_name = "N")]
    pub max_changes: Option<usize>,
    /// Return once the job has started, printing its id; a later `apply` waits and reports
    #[arg(long)]
    pub no_wait: bool,
    /// How to print the report on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, value_name = "FORMAT")]
    pub format: ReportFormat,
    /// Show personal data in the plan instead of masking it
    #[arg(long)]
    pub show_pii: bool,
    /// Migrate these users' passwords: the JSON Lines hash file given to `plan` (one job per
    /// algorithm; users with a valid hash import CONFIRMED); with a saved plan, the file must
    /// be unchanged
    #[arg(long, value_name = "FILE", env = crate::env::PASSWORD_HASHES)]
    pub password_hashes: Option<PathBuf>,
}

/// Output formats of `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like text
    Text,
    /// One versioned JSON document (`schema_version: 1`)
    Json,
    /// Markdown for a pull-request comment, always under GitHub's 65,535 characters
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The manifest
    #[arg(default_value = crate::manifest::DEFAULT_MANIFEST)]
    pub manifest: PathBuf,
    /// Save the plan as JSON (pool, CSV header, exact rows, digests) for review or `apply`;
    /// written with mode 0600, as it holds personal data
    #[arg(short = 'o', long = "output", value_name = "PLAN.json")]
    pub output: Option<PathBuf>,
    /// How to print the plan on stdout
    #[arg(long, value_enum, default_value_t = PlanFormat::Text, value_name = "FORMAT")]
    pub format: PlanFormat,
    /// Exit 0 when there is nothing to do, 2 when users would be imported or changed (or
    /// groups created), 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the exact CSV that `apply` would upload (mode 0600)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Show personal data (emails, phone numbers, names) instead of masking it
    #[arg(long)]
    pub show_pii: bool,
    /// Migrate these users' passwords: a JSON Lines file of `{"username", "algorithm",
    /// "hash"}` (BCRYPT, SCRYPT, ARGON2ID, PBKDF2_SHA256), kept out of git; the plan says who
    /// brings a hash, never the hash
    #[arg(long, value_name = "FILE", env = crate::env::PASSWORD_HASHES)]
    pub password_hashes: Option<PathBuf>,
    /// How to read the pool's users: `auto` picks the fewer requests; `list-all` and
    /// `look-up` force one, `list-one-chain` walks without partitions (tests, benchmarks)
    #[arg(long, value_enum, default_value_t = ReadChoice::Auto, value_name = "HOW", hide = true)]
    pub read: ReadChoice,
}

/// `plan --read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadChoice {
    Auto,
    ListAll,
    LookUp,
    ListOneChain,
}
