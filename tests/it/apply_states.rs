//! `apply` in the states real operations leave it in (issue #9): the pool, read back, is
//! the judge. Each test asserts the pool's final state (read from the emulator's backend,
//! not through cognito-sync), the number of jobs that processed rows, and the exit code.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{Value, json};

use crate::apply::{Setup, finish, wait_for_line};
use crate::common::Workspace;
use crate::common::emulator::emulator;

/// The usernames in the pool, read from the emulator's backend.
fn pool_users(setup: &Setup) -> BTreeSet<String> {
    let body =
        emulator().http("GET", &format!("/_emulator/users?pool_id={}&region={}", setup.pool, setup.account.region), "");
    let state: Value = serde_json::from_str(&body).unwrap();
    state["users"].as_object().unwrap().keys().cloned().collect()
}

fn has_all(setup: &Setup, users: &[&str]) {
    let present = pool_users(setup);
    for user in users {
        assert!(present.contains(*user), "`{user}` is not in the pool: {present:?}");
    }
}

/// The pool's jobs that processed rows.
fn jobs_with_rows(setup: &Setup) -> Vec<Value> {
    let jobs = setup.run(&["jobs", "--format", "json", "--limit", "0"]);
    assert_eq!(jobs.code, 0, "{}", jobs.stderr);
    let jobs: Value = serde_json::from_str(&jobs.stdout).unwrap();
    jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["imported"].as_u64().unwrap() + j["skipped"].as_u64().unwrap() + j["failed"].as_u64().unwrap() > 0
        })
        .cloned()
        .collect()
}

/// A manifest for `pool` with these users, in its own workspace.
fn other_manifest(setup: &Setup, pool: &str, users: &[&str]) -> Workspace {
    let ws = Workspace::new();
    let mut text = format!(
        "version: 1\npool:\n  id: {pool}\nimport:\n  role: {}\ndefaults:\n  email_verified: true\nusers:\n",
        setup.role
    );
    for user in users {
        text.push_str(&format!("  - username: {user}\n    email: {user}@example.com\n"));
    }
    ws.write("users.yaml", &text);
    ws
}

fn sigterm(child: &std::process::Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn an_expired_upload_url_gets_a_new_job_on_the_next_run() {
    let setup = Setup::new("stateexpired");
    setup.manifest(&["alice", "bob"]);
    // The job is created, its upload keeps failing, the run is cancelled; the job's URL
    // expires a second after its creation.
    setup.faults(json!({"url_expiry_seconds": 1, "fail_upload": {"count": 10, "status": 500}}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "created import job");
    sigterm(&child);
    assert_eq!(finish(child).code, 1);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    setup.faults(json!({}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 2, "a new job for a new URL\n{}", run.stderr);
    has_all(&setup, &["alice", "bob"]);
    assert_eq!(jobs_with_rows(&setup).len(), 1);
}

#[test]
fn a_role_just_created_by_role_create_is_retried_while_it_propagates() {
    let setup = Setup::new("statepropagation");
    setup.manifest(&["alice"]);
    setup.faults(json!({"role_propagation_seconds": 3}));
    let role = setup.run(&["role", "--create"]);
    assert_eq!(role.code, 0, "{}", role.stderr);
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("created the shared import role"), "{}", run.stderr);
    assert!(run.stderr.contains("Cognito cannot assume the import role yet"), "{}", run.stderr);
    has_all(&setup, &["alice"]);
    assert_eq!(jobs_with_rows(&setup).len(), 1);
}

#[test]
fn three_concurrent_applies_while_the_role_propagates_run_one_job() {
    let setup = Setup::new("stateconcurrentrole");
    setup.manifest(&["alice", "bob", "carol"]);
    setup.faults(json!({"role_propagation_seconds": 3}));
    let children: Vec<_> = (0..3).map(|_| setup.account.spawn(setup.ws.path(), &["apply", "--yes"])).collect();
    for child in children {
        let run = finish(child);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    }
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 1, "{ran:#?}");
    assert_eq!(ran[0]["imported"], 3);
}

#[test]
fn two_overlapping_manifests_at_once_both_succeed_and_no_job_carries_an_existing_user() {
    let setup = Setup::new("stateoverlap");
    setup.manifest(&["alice", "bob"]);
    setup.run(&["role", "--create"]);
    let other = other_manifest(&setup, &setup.pool, &["bob", "carol"]);
    let first = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    let second = setup.account.spawn(other.path(), &["apply", "--yes"]);
    let (first, second) = (finish(first), finish(second));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 2, "{ran:#?}");
    for job in &ran {
        assert_eq!(job["skipped"], 0, "a job carried a row for a user that existed at its upload: {ran:#?}");
    }
    let total: u64 = ran.iter().map(|j| j["imported"].as_u64().unwrap()).sum();
    assert_eq!(total, 3, "bob imported once");
}

#[test]
fn every_saved_plan_field_edited_is_refused_before_any_request() {
    let setup = Setup::new("statesavededit");
    setup.manifest(&["alice"]);
    let plan = setup.run(&["plan", "-o", "plan.json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(setup.ws.path().join("plan.json")).unwrap()).unwrap();
    let edits: [(&str, Value); 7] = [
        ("/role", json!("arn:aws:iam::123456789012:role/unreviewed")),
        ("/scoped_trust", json!(true)),
        ("/to_import/0/username", json!("mallory")),
        ("/pool/region", json!("eu-west-3")),
        ("/csv_header/0", json!("nickname")),
        ("/rows/0", json!("tampered")),
        (
            "/post_import",
            json!([{"kind": "create_group", "name": "admins", "description": null, "precedence": null, "role_arn": null}]),
        ),
    ];
    for (pointer, value) in edits {
        let mut edited = saved.clone();
        *edited.pointer_mut(pointer).unwrap() = value;
        setup.ws.write("edited.json", &edited.to_string());
        emulator().reset_counts(&setup.account);
        let run = setup.run(&["apply", "edited.json", "--yes"]);
        assert_eq!(run.code, 1, "{pointer}: {}", run.stderr);
        assert!(run.stderr.contains("was changed after it was made"), "{pointer}: {}", run.stderr);
        assert!(emulator().counts(&setup.account).is_empty(), "{pointer}: a request was sent");
    }
    assert!(!pool_users(&setup).contains("alice"));
    let run = setup.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has_all(&setup, &["alice"]);
}

#[test]
fn a_plan_whose_only_user_failed_is_retried_by_running_apply_again() {
    let setup = Setup::new("stateretry");
    setup.manifest(&["alice"]);
    setup.faults(json!({"fail_rows": ["alice"]}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("alice missing: An internal error occurred while importing this user."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("retries it"), "{}", run.stdout);
    // Rows failed, so the job did not fail as a whole: no hint about the role.
    assert!(!run.stdout.contains("could not use the import role"), "{}", run.stdout);
    setup.faults(json!({}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 2);
    has_all(&setup, &["alice"]);
    assert_eq!(jobs_with_rows(&setup).len(), 2);
}

/// Another pool of the same account and region runs a job while this one starts.
fn start_refused_with(code: &str, name: &str) {
    let setup = Setup::new(name);
    setup.manifest(&["alice", "bob"]);
    setup.run(&["role", "--create"]);
    let other_pool = emulator().seed_pool(&setup.account, &format!("{name}b"), 0, &[]);
    let other = other_manifest(&setup, &other_pool, &["zed"]);
    setup.faults(json!({"slow_start_seconds": 25, "start_refusal_code": code}));
    let mut running = setup.account.spawn(other.path(), &["apply", "--yes"]);
    wait_for_line(&mut running, "started import job");
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Cognito refused to start the job"), "{}", run.stderr);
    has_all(&setup, &["alice", "bob"]);
    assert_eq!(jobs_with_rows(&setup).len(), 1);
    assert_eq!(setup.count("CreateUserImportJob"), 2, "one job per pool");
    let other = finish(running);
    assert_eq!(other.code, 0, "{}", other.stderr);
}

#[test]
fn a_start_refused_with_precondition_not_met_waits_for_the_other_job() {
    start_refused_with("PreconditionNotMetException", "staterefusedpre");
}

#[test]
fn a_start_refused_with_limit_exceeded_waits_for_the_other_job() {
    start_refused_with("LimitExceededException", "staterefusedlimit");
}

/// Two runs of one plan resume the same created job at once, and both start it: the second
/// start finds the job already started, which Cognito refuses with `code` (probe
/// `restart_refusal_code`: undocumented which). Both runs must follow the one job and
/// succeed. To make the race certain, a job of another pool (another access key, same
/// account and region) holds the account's one slot until both runs' starts have been
/// refused; then it is stopped, both retry, the first retry wins and the other's retry is
/// the restart.
fn both_runs_start_one_job(code: &str, name: &str) {
    let setup = Setup::new(name);
    setup.manifest(&["alice", "bob"]);
    setup.run(&["role", "--create"]);
    // A job of this plan that an interrupted run created and never uploaded.
    setup.faults(json!({"fail_upload": {"count": 10, "status": 500}}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "created import job");
    sigterm(&child);
    assert_eq!(finish(child).code, 1);
    setup.faults(json!({"restart_refusal_code": code}));

    let holder = crate::common::emulator::TestAccount {
        access_key: format!("{}H", setup.account.access_key),
        region: setup.account.region,
    };
    emulator().set_faults(&holder, json!({"slow_start_seconds": 120}));
    let other_pool = emulator().seed_pool(&holder, &format!("{name}b"), 0, &[]);
    let other = other_manifest(&setup, &other_pool, &["zed"]);
    let mut holding = holder.spawn(other.path(), &["apply", "--yes"]);
    let seen = wait_for_line(&mut holding, "started import job");
    let holding_job = seen.rsplit("started import job `").next().unwrap().split('`').next().unwrap().to_owned();

    let mut runs: Vec<_> = (0..2).map(|_| setup.account.spawn(setup.ws.path(), &["apply", "--yes"])).collect();
    let seen: Vec<String> = runs.iter_mut().map(|run| wait_for_line(run, "Cognito refused to start the job")).collect();
    for seen in &seen {
        assert!(seen.contains("resuming import job"), "{seen}");
    }
    stop_job(&holder, &other_pool, &holding_job);
    for (run, seen) in runs.into_iter().zip(seen) {
        let run = finish(run);
        assert_eq!(run.code, 0, "{}\n{seen}{}", run.stdout, run.stderr);
    }
    has_all(&setup, &["alice", "bob"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 1, "{ran:#?}");
    assert_eq!(ran[0]["imported"], 2);
    assert_eq!(setup.count("CreateUserImportJob"), 1, "both runs resumed the interrupted run's job");
    finish(holding);
}

/// Stops a job with boto3 from the emulator's venv: cognito-sync has no `stop`.
fn stop_job(account: &crate::common::emulator::TestAccount, pool: &str, job_id: &str) {
    let script = "import boto3, sys; boto3.client('cognito-idp', endpoint_url=sys.argv[1], region_name=sys.argv[2], \
aws_access_key_id=sys.argv[3], aws_secret_access_key='x').stop_user_import_job(UserPoolId=sys.argv[4], JobId=sys.argv[5])";
    let out = Command::new(emulator().python())
        .args(["-c", script, &emulator().endpoint, account.region, &account.access_key, pool, job_id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_restart_refused_with_precondition_not_met_is_the_other_runs_start() {
    both_runs_start_one_job("PreconditionNotMetException", "staterestartpre");
}

#[test]
fn a_restart_refused_with_invalid_parameter_is_the_other_runs_start() {
    both_runs_start_one_job("InvalidParameterException", "staterestartinv");
}

#[test]
fn sigterm_during_the_wait_exits_1_and_a_rerun_resumes() {
    let setup = Setup::new("statesigwait");
    setup.manifest(&["alice", "bob"]);
    setup.faults(json!({"slow_start_seconds": 3}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "started import job");
    sigterm(&child);
    let run = finish(child);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("terminated"), "{}", run.stderr);
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 1);
    has_all(&setup, &["alice", "bob"]);
    assert_eq!(jobs_with_rows(&setup).len(), 1);
}

#[test]
fn sigterm_during_the_upload_exits_1_leaves_no_file_and_a_rerun_resumes() {
    let setup = Setup::new("statesigupload");
    setup.manifest(&["alice", "bob"]);
    setup.faults(json!({"fail_upload": {"count": 10, "status": 500}}));
    let tmp = std::env::temp_dir();
    let before: BTreeSet<_> = std::fs::read_dir(&tmp).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "created import job");
    std::thread::sleep(std::time::Duration::from_millis(700));
    sigterm(&child);
    let run = finish(child);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("terminated"), "{}", run.stderr);
    let after: BTreeSet<_> = std::fs::read_dir(&tmp).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(
        !after.difference(&before).any(|n| n.to_string_lossy().starts_with("cognito-sync-import")),
        "a CSV was left on disk"
    );
    assert_eq!(setup.ws.files(), ["users.yaml"]);
    setup.faults(json!({}));
    let run = setup.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("resuming import job"), "{}", run.stderr);
    assert_eq!(setup.count("CreateUserImportJob"), 1);
    has_all(&setup, &["alice", "bob"]);
}

#[test]
fn the_report_is_right_when_the_log_counts_the_header() {
    for numbering in ["header_counted", "data_rows"] {
        let setup = Setup::new(&format!("statelog{}", &numbering[..4]));
        setup.manifest(&["alice", "bob", "carol"]);
        setup.faults(json!({"log_line_numbering": numbering, "fail_rows": ["bob"]}));
        let run = setup.run(&["apply", "--yes", "--format", "json"]);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["jobs"][0]["log_numbering"], numbering);
        let failed = &report["jobs"][0]["users"];
        assert_eq!(failed.as_array().unwrap().len(), 1, "{failed:#}");
        assert_eq!(failed[0]["username"], "bob");
        let users = report["users"].as_array().unwrap();
        let state = |name: &str| users.iter().find(|u| u["username"] == name).unwrap().clone();
        assert_eq!(state("alice")["state"], "present");
        assert_eq!(state("carol")["state"], "present");
        assert_eq!(state("bob")["state"], "missing");
        assert_eq!(state("bob")["reason"], "An internal error occurred while importing this user.");
        assert_eq!(report["summary"]["missing"], 1);
        assert_eq!(jobs_with_rows(&setup).len(), 1);
        let present = pool_users(&setup);
        assert!(present.contains("alice") && present.contains("carol") && !present.contains("bob"));
    }
}

#[test]
fn a_user_created_elsewhere_meanwhile_is_named_with_its_drift() {
    let setup = Setup::new("stateelsewhere");
    setup.manifest(&["alice", "dave000000"]);
    // dave000000 appears (with other attributes) after the plan, while the job is created.
    setup.faults(json!({"role_propagation_seconds": 2}));
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    wait_for_line(&mut child, "retrying in");
    setup.account.create_users(&setup.pool, "dave", 1);
    let run = finish(child);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("dave000000 created elsewhere meanwhile"), "{}", run.stdout);
    assert!(run.stdout.contains("differs from the plan in"), "{}", run.stdout);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["imported"], 1);
}

#[test]
fn without_a_terminal_apply_needs_yes_or_auto_approve() {
    let setup = Setup::new("stateyes");
    setup.manifest(&["alice"]);
    emulator().reset_counts(&setup.account);
    let run = setup.run(&["apply"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no `--yes`"), "{}", run.stderr);
    assert!(emulator().counts(&setup.account).is_empty());
    let run = setup.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    has_all(&setup, &["alice"]);
}
