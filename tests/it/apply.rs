//! `apply` end to end: the real binary, the real AWS SDK, the emulator.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::Child;

use serde_json::json;

use crate::common::emulator::{TestAccount, emulator};
use crate::common::{Run, Workspace};

/// A pool with two existing users (`user000000`, `user000001`) and a manifest for it.
pub(crate) struct Setup {
    pub(crate) account: TestAccount,
    pub(crate) pool: String,
    pub(crate) ws: Workspace,
    pub(crate) role: String,
}

impl Setup {
    pub(crate) fn new(name: &str) -> Self {
        let emulator = emulator();
        let account = emulator.account(name);
        let pool = emulator.seed_pool(&account, name, 2, &["--custom-attr", "department"]);
        let role = format!("cs-{}", account.access_key.to_lowercase());
        Setup { account, pool, ws: Workspace::new(), role }
    }

    /// Writes `users.yaml` with these new users (each with an email) plus `user000000`.
    pub(crate) fn manifest(&self, new_users: &[&str]) -> PathBuf {
        let mut text = format!(
            "version: 1\npool:\n  id: {}\nimport:\n  role: {}\ndefaults:\n  email_verified: true\nusers:\n  - username: user000000\n    email: user000000@example.com\n",
            self.pool, self.role
        );
        for user in new_users {
            text.push_str(&format!(
                "  - username: {user}\n    email: {user}@example.com\n    name: {user}, Jr.\n    custom:\n      department: eng\n"
            ));
        }
        self.ws.write("users.yaml", &text)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.account.cognito_sync().current_dir(self.ws.path()).args(args).output().unwrap().into()
    }

    pub(crate) fn count(&self, operation: &str) -> u64 {
        self.account.count(operation)
    }

    pub(crate) fn faults(&self, faults: serde_json::Value) {
        emulator().set_faults(&self.account, faults);
    }
}

/// Reads the child's stderr until a line contains `needle`; returns what it read.
pub(crate) fn wait_for_line(child: &mut Child, needle: &str) -> String {
    let stderr = child.stderr.as_mut().expect("piped stderr");
    let mut reader = BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read stderr");
        assert!(n > 0, "cognito-sync ended before printing {needle:?}; it printed:\n{seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}

pub(crate) fn finish(mut child: Child) -> Run {
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    Run { code: status.code().unwrap_or(-1), stdout, stderr }
}

#[test]
fn plan_apply_plan_leaves_nothing_and_one_role_serves_every_job() {
    let setup = Setup::new("applyhappy");
    setup.manifest(&["alice", "bob", "carol"]);

    let plan = setup.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);

    let apply = setup.run(&["apply", "--yes"]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("Succeeded: 3 imported, 0 skipped, 0 failed of 3"), "{}", apply.stdout);
    assert!(apply.stdout.contains("RESET_REQUIRED"), "{}", apply.stdout);
    assert!(apply.stderr.contains("created the shared import role"), "{}", apply.stderr);
    // The upload carried the header Cognito signs into the URL: one PUT, accepted.
    assert_eq!(setup.count("UploadCSV"), 1);

    let plan = setup.run(&["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(report["summary"]["to_import"], 0);
    assert_eq!(report["summary"]["in_sync"], 4);

    // A second apply with one more user: a second job, the same role.
    setup.manifest(&["alice", "bob", "carol", "dave"]);
    let apply = setup.run(&["apply", "--yes", "--format", "json"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let report: serde_json::Value = serde_json::from_str(&apply.stdout).unwrap();
    assert_eq!(report["jobs"][0]["job"]["imported"], 1);
    assert_eq!(report["jobs"][0]["job"]["status"], "Succeeded");
    assert_eq!(setup.count("CreateRole"), 1, "one shared role, never one per job");
    assert_eq!(setup.count("CreateUserImportJob"), 2);

    // Nothing left: no job at all, and the JSON report says so.
    let apply = setup.run(&["apply", "--yes", "--format", "json"]);
    assert_eq!(apply.code, 0);
    assert!(apply.stderr.contains("nothing to import"), "{}", apply.stderr);
    let report: serde_json::Value = serde_json::from_str(&apply.stdout).unwrap();
    assert_eq!(report["jobs"], json!([]));
    assert_eq!(setup.count("CreateUserImportJob"), 2);
}

#[test]
fn failed_and_skipped_users_are_reported_with_cognitos_reasons() {
    let setup = Setup::new("applyfail");
    setup.manifest(&["alice", "bob", "carol", "dave000000"]);
    // carol fails inside Cognito; dave000000 is created by someone else while the job waits.
    setup.faults(json!({"fail_rows": ["carol"], "slow_start_seconds": 2}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "started import job");
    setup.account.create_users(&setup.pool, "dave", 1);
    let run = finish(child);
    assert_eq!(run.code, 1, "a failed user exits 1\n{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 imported, 1 skipped, 1 failed of 4"), "{}", run.stdout);
    assert!(
        run.stdout.contains("carol failed: An internal error occurred while importing this user."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("dave000000 skipped: The user already exists."), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("log: group `/aws/cognito/userpools/{}/applyfail`", setup.pool)),
        "{}",
        run.stdout
    );
    // The emulator is not AWS: no console link that would show nothing (see: #15).
    assert!(!run.stdout.contains("console.aws.amazon.com"), "{}", run.stdout);
}

#[test]
fn a_saved_plan_is_applied_exactly_or_refused_when_stale() {
    let setup = Setup::new("applysaved");
    let manifest = setup.manifest(&["alice", "erin000000"]);
    let plan = setup.run(&["plan", "-o", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let mode = std::fs::metadata(setup.ws.path().join("plan.json")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);

    // A planned user appeared in the pool: the plan no longer holds.
    setup.account.create_users(&setup.pool, "erin", 1);
    let run = setup.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the saved plan is stale: 1 planned user now exists"), "{}", run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 0);

    // A fresh plan by the hint, pasted (see: #15); the manifest changes afterwards: the
    // saved plan does not read it.
    let hint = crate::common::hint_after(&run.stderr, "make a new plan with ");
    assert_eq!(hint, "cognito-sync plan users.yaml -o plan.json");
    let plan = crate::common::paste(setup.ws.path(), &hint, setup.account.env());
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    std::fs::write(&manifest, "not: [a manifest").unwrap();

    // A hand-edited plan is refused by its digest.
    let saved = std::fs::read_to_string(setup.ws.path().join("plan.json")).unwrap();
    std::fs::write(setup.ws.path().join("edited.json"), saved.replace("alice@example.com", "mallory@example.com"))
        .unwrap();
    let run = setup.run(&["apply", "edited.json", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("was changed after it was made"), "{}", run.stderr);

    // The saved plan as made: imported exactly.
    let run = setup.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Succeeded: 1 imported, 0 skipped, 0 failed of 1"), "{}", run.stdout);
}

#[test]
fn max_new_refuses_larger_imports_and_sends_no_job() {
    let setup = Setup::new("applymax");
    setup.manifest(&["alice", "bob"]);
    let run = setup.run(&["apply", "--yes", "--max-new", "1"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("refusing to import 2 users: `--max-new` is 1"), "{}", run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 0);
    assert_eq!(setup.count("CreateRole"), 0);
}

#[test]
fn an_invalid_manifest_sends_nothing() {
    let setup = Setup::new("applyinvalid");
    setup.ws.write("users.yaml", "version: 1\npool:\n  id: us-east-1_X\nusers:\n  - username: a\n    email: nope\n");
    emulator().reset_counts(&setup.account);
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is not a valid email address"), "{}", run.stderr);
    assert!(emulator().counts(&setup.account).is_empty(), "{:?}", emulator().counts(&setup.account));
}

/// Runs apply with `faults` until it fails saying `error`, then again without faults:
/// the second run must resume the first run's job, not create another.
fn resumes_after(name: &str, faults: serde_json::Value, error: &str) -> Setup {
    let setup = Setup::new(name);
    setup.manifest(&["alice", "bob"]);
    setup.faults(faults);
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(error), "{}", run.stderr);
    assert!(!run.stderr.contains("X-Amz-Signature") && !run.stdout.contains("X-Amz-Signature"), "the URL leaked");
    setup.faults(json!({}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("resuming import job"), "{}", run.stderr);
    assert!(run.stdout.contains("2 imported"), "{}", run.stdout);
    assert_eq!(setup.count("CreateUserImportJob"), 1);
    setup
}

#[test]
fn resumes_after_a_failed_upload_without_a_second_job() {
    resumes_after("applyupload", json!({"fail_upload": {"count": 10, "status": 500}}), "failed to upload the CSV");
}

#[test]
fn resumes_after_a_failed_start_without_a_second_job() {
    let setup = resumes_after(
        "applystart",
        json!({"server_error": {"operations": ["StartUserImportJob"], "count": 50}}),
        "failed to start import job",
    );
    assert_eq!(setup.count("UploadCSV"), 2, "the upload is repeated, the job is not");
}

#[test]
fn a_run_killed_after_start_is_waited_for_not_repeated() {
    let setup = Setup::new("applykill");
    setup.manifest(&["alice", "bob", "carol"]);
    setup.faults(json!({"slow_start_seconds": 3}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "started import job");
    child.kill().unwrap();
    child.wait().unwrap();

    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("is already Pending") || run.stderr.contains("is already InProgress"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing to import"), "{}", run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 1, "one job, every user imported once");
    let plan = setup.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

#[test]
fn no_wait_returns_the_job_id_and_a_later_apply_waits() {
    let setup = Setup::new("applynowait");
    setup.manifest(&["alice"]);
    setup.faults(json!({"slow_start_seconds": 2}));
    let run = setup.run(&["apply", "--yes", "--no-wait"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.lines().last().unwrap_or_default().starts_with("import-"), "{}", run.stdout);
    // While it runs, --no-wait reports it instead of starting another.
    let run = setup.run(&["apply", "--yes", "--no-wait"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("run `cognito-sync apply users.yaml` again when it has finished"), "{}", run.stderr);
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 1);
}

#[test]
fn survives_throttling_and_server_errors() {
    let setup = Setup::new("applyflaky");
    setup.manifest(&["alice", "bob", "carol"]);
    setup.faults(json!({
        // The next requests, whatever they are: reading the pool, the role, the job.
        "throttle": {"count": 4},
        "server_error": {"count": 3},
        "fail_upload": {"count": 1, "status": 503},
        "seed": 7
    }));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("3 imported"), "{}", run.stdout);
    assert_eq!(setup.count("UploadCSV"), 2, "one failed upload, retried");
    assert_eq!(run.stderr.matches("created the shared import role").count(), 1, "{}", run.stderr);
}

#[test]
fn concurrent_applies_of_one_plan_run_one_job() {
    let setup = Setup::new("applyconcurrent");
    setup.manifest(&["alice", "bob", "carol"]);
    setup.run(&["role", "--create"]);
    let first = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    let second = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    let (first, second) = (finish(first), finish(second));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);

    let jobs = setup.run(&["jobs", "--format", "json"]);
    assert_eq!(jobs.code, 0, "{}", jobs.stderr);
    let jobs: serde_json::Value = serde_json::from_str(&jobs.stdout).unwrap();
    let list = jobs["jobs"].as_array().unwrap();
    let ran: Vec<_> = list.iter().filter(|j| j["status"] != "Created").collect();
    assert_eq!(ran.len(), 1, "one job ran: {list:#?}");
    assert_eq!(ran[0]["imported"], 3);
    let plan = setup.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

#[test]
fn a_new_role_that_cognito_cannot_see_yet_is_waited_for() {
    let setup = Setup::new("applypropagation");
    setup.manifest(&["alice"]);
    setup.faults(json!({"role_propagation_seconds": 2}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("created the shared import role"), "{}", run.stderr);
    assert!(run.stderr.contains("Cognito cannot assume the import role yet"), "{}", run.stderr);
    assert!(run.stdout.contains("1 imported"), "{}", run.stdout);
}
