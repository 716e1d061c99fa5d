//! The README's console examples are real runs (see: #15): this test runs each one, the way
//! the README shows it, against the emulator (the demo's pool: 3 unmanaged users, and
//! `alice` already in it with another given name), and compares the output, with the
//! emulator's ids, times and endpoint replaced by the README's, to the README's block.
//!
//! After an intended change of the output, rewrite the blocks and review the diff:
//! `COGNITO_SYNC_BLESS_README=1 cargo test --test it readme::`.

use std::process::Command;

use regex::Regex;

use crate::common::Workspace;
use crate::common::emulator::{emulator, repo_root};

const README_POOL: &str = "us-east-1_AbCdEf123";
const README_JOB: &str = "import-f3090Rplxb";
const README_JOB_NAME: &str = "cognito-sync-f912b809f62062361764";
const README_TIME: &str = "2026-11-27T05:20:11Z";

/// A manifest with two mistakes, for the `validate users.yaml` example.
const BAD_MANIFEST: &str = "version: 1
pool:
  id: us-east-1_AbCdEf123
users:
  - username: alice
    emial: alice@example.com
  - username: bob
    email: bob@
";

#[test]
fn console_examples_are_real_runs() {
    let emulator = emulator();
    let account = emulator.account("readme");
    let pool = emulator.seed_pool(&account, "demo", 3, &["--custom-attr", "department", "--mfa", "OPTIONAL"]);
    let script = "import boto3, sys\n\
        c = boto3.client('cognito-idp', endpoint_url=sys.argv[1], region_name=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key='x')\n\
        c.admin_create_user(UserPoolId=sys.argv[4], Username='alice', MessageAction='SUPPRESS', UserAttributes=[\
        {'Name': 'email', 'Value': 'alice@example.com'}, {'Name': 'email_verified', 'Value': 'true'}, {'Name': 'given_name', 'Value': 'Alicia'}])\n";
    let out = Command::new(emulator.python())
        .args(["-c", script, &emulator.endpoint, account.region, &account.access_key, &pool])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The demo's manifest, as `users.yaml`, with this test's pool and its own role (IAM is
    // shared by every test), both shown as the README's.
    let role = format!("cs-{}", account.access_key.to_lowercase());
    let example = std::fs::read_to_string(repo_root().join("examples/users.yaml")).expect("example");
    let ws = Workspace::new();
    ws.write("users.yaml", &example.replace(README_POOL, &pool).replace("cognito-sync-import", &role));
    std::fs::create_dir(ws.path().join("examples")).expect("mkdir");
    ws.write("examples/users.yaml", &example);
    ws.write("bad.yaml", BAD_MANIFEST);

    let id = Regex::new(&format!(r"{}_[0-9a-f]{{32}}", account.region)).unwrap();
    let job = Regex::new(r"import-[A-Za-z0-9]{9,}").unwrap();
    let job_name = Regex::new(r"cognito-sync-[0-9a-f]{20,}").unwrap();
    let time = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    // The README's examples stand for a real pool, which is named without an endpoint.
    let endpoint = format!(" at endpoint `{}`", emulator.endpoint);
    let run = |command: &str| -> String {
        // The README shows a terminal: stdout and stderr as they interleave, without the
        // progress a terminal clears.
        let actual = command.replace("validate users.yaml", "validate bad.yaml");
        let mut env = account.env();
        env.push(("COGNITO_SYNC_NO_PROGRESS", "1".to_owned()));
        env.push(("COLUMNS", "100".to_owned()));
        let out = crate::common::paste(ws.path(), &format!("{actual} 2>&1"), env).stdout;
        let out = out.replace("bad.yaml", "users.yaml").replace(&endpoint, "");
        let out = id.replace_all(&out, README_POOL);
        let out = job.replace_all(&out, README_JOB);
        let out = job_name.replace_all(&out, README_JOB_NAME);
        let out = time.replace_all(&out, README_TIME);
        out.replace(&role, "cognito-sync-import").replace(account.region, "us-east-1")
    };

    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README");
    let mut updated = String::with_capacity(readme.len());
    let mut rest = readme.as_str();
    let mut seen = Vec::new();
    // Each "```console" block whose first line is `$ cognito-sync ...`, in the README's order
    // (the order matters: `apply` changes the pool that `jobs` then lists).
    while let Some(start) = rest.find("```console\n$ cognito-sync ") {
        let body_start = start + "```console\n".len();
        let line_end = body_start + rest[body_start..].find('\n').expect("command line");
        let end = line_end + rest[line_end..].find("```").expect("end of block");
        let command = &rest[body_start + 2..line_end];
        updated.push_str(&rest[..=line_end]);
        updated.push_str(&run(command));
        seen.push(command.to_owned());
        rest = &rest[end..];
    }
    updated.push_str(rest);
    for expected in ["cognito-sync validate examples/users.yaml", "cognito-sync plan", "cognito-sync jobs"] {
        assert!(seen.iter().any(|c| c == expected), "the README has no `{expected}` example: {seen:?}");
    }
    if std::env::var_os("COGNITO_SYNC_BLESS_README").is_some() {
        std::fs::write(&path, updated).expect("write README");
    } else {
        assert!(
            updated == readme,
            "the README's console examples differ from real runs; rewrite them with \
             `COGNITO_SYNC_BLESS_README=1 cargo test --test it readme::` and review the diff"
        );
    }
}
