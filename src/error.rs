//! The process exit status, and how errors reach the terminal.

use std::process::ExitCode;

/// How a run ended. This is the tool's contract with scripts and CI; it is documented in
/// `--help` and the README and must not change lightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command succeeded; for `plan`, nothing is wrong (and with
    /// `--detailed-exitcode`, nothing to import).
    Success,
    /// Any error: a usage error, an invalid manifest, an AWS error, a user that failed
    /// to import.
    Failure,
    /// Only `plan --detailed-exitcode`: the plan succeeded and users would be imported or changed.
    Changes,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        })
    }
}

/// The exit status section of `--help`, the single written form of the contract.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success; nothing to do
  1  any error (usage, invalid manifest, AWS error) or any planned user not in the pool (or without
     its declared MFA) after apply
  2  only with `plan --detailed-exitcode`: users would be imported or changed";
