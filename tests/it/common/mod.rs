//! Shared test context: the binary, temporary manifests, the emulator.

// Not every test module uses every helper.
#[allow(dead_code)]
pub mod emulator;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The cognito-sync binary under test, with a clean environment: no AWS profile or
/// endpoint from the developer's shell leaks into a test.
pub fn cognito_sync() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_cognito-sync"));
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "COGNITO_SYNC_POOL_ID",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A temporary directory that holds test files and is removed afterwards.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// The names of the files in the workspace, to prove a command wrote nothing.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The output of a finished command as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }
}

/// The command in the first backticks after `after` in `text`, which must start with
/// `cognito-sync `: a hint that the user would copy.
pub fn hint_after(text: &str, after: &str) -> String {
    let start = text.find(after).unwrap_or_else(|| panic!("no `{after}` in:\n{text}")) + after.len();
    let rest = &text[start..];
    let open = rest.find('`').unwrap_or_else(|| panic!("no command after `{after}` in:\n{text}")) + 1;
    let close = open + rest[open..].find('`').expect("closing backtick");
    let command = rest[open..close].to_owned();
    assert!(command.starts_with("cognito-sync "), "not a command: {command}");
    command
}

/// Runs `command` as a user who pastes it into a POSIX shell in `dir` would: `cognito-sync`
/// is the binary under test, on `PATH`, with `env` set as in the shell.
pub fn paste(
    dir: &Path,
    command: &str,
    env: impl IntoIterator<Item = (impl AsRef<std::ffi::OsStr>, impl AsRef<std::ffi::OsStr>)>,
) -> Run {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cognito-sync")).parent().expect("bin dir").to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sh")
        .into()
}
