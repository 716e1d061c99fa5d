//! Every environment variable cognito-sync reads, in one place.
//!
//! The AWS variables (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, credentials) are read
//! by the AWS SDK's standard chain, not here.

/// Overrides the manifest's `pool.id`, like `--pool-id`.
pub const POOL_ID: &str = "COGNITO_SYNC_POOL_ID";
/// The password-hash file of a migration, like `--password-hashes` (plan and apply).
pub const PASSWORD_HASHES: &str = "COGNITO_SYNC_PASSWORD_HASHES";
/// Hides progress bars and periodic progress lines, like `--quiet` does for progress.
pub const NO_PROGRESS: &str = "COGNITO_SYNC_NO_PROGRESS";
/// Disables colour when set to any non-empty value (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Forces colour when set to any non-empty value.
pub const FORCE_COLOR: &str = "FORCE_COLOR";
/// Forces colour when set to anything but `0`.
pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
/// Forces how `plan` reads group memberships: `group-walk` or `per-user` (tests and
/// benchmarks; by default the one with fewer requests).
pub const READ_GROUPS: &str = "COGNITO_SYNC_READ_GROUPS";
