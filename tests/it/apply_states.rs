//! `apply` in the states real operations leave it in (issue #9): the pool, read back, is
//! the judge. Each test asserts the pool's final state (read from the emulator's backend,
//! not through cognito-sync), the number of jobs that processed rows, and the exit code.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{Value, json};

use crate::apply::{Setup, finish, wait_for_line};
use crate::common::Workspace;
use crate::common::emulator::{TestAccount, emulator};

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

/// Another access key of the test's account and region: its faults and counts are its own.
fn second_key(setup: &Setup, suffix: &str) -> TestAccount {
    TestAccount { access_key: format!("{}{suffix}", setup.account.access_key), region: setup.account.region }
}

/// Waits until `account` has sent an upload (held by the `hold_upload` fault).
fn wait_for_upload(account: &TestAccount) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while account.count("UploadCSV") == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload within 120 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `apply --format json`'s verdict for `username`, when the run planned it.
fn state_of(report: &Value, username: &str) -> Option<(String, String)> {
    report["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .map(|u| (u["state"].as_str().unwrap().to_owned(), u["reason"].as_str().unwrap_or_default().to_owned()))
}

fn report_of(run: &crate::common::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
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
    // The role stays "not assumable" until the run has retried once (not for a fixed time:
    // under load the run may reach its create later than any fixed time).
    setup.faults(json!({"role_propagation_seconds": 3600}));
    let role = setup.run(&["role", "--create"]);
    assert_eq!(role.code, 0, "{}", role.stderr);
    let mut child = setup.account.spawn(setup.ws.path(), &["apply", "--yes"]);
    let seen = wait_for_line(&mut child, "Cognito cannot assume the import role yet");
    setup.faults(json!({}));
    let run = finish(child);
    assert_eq!(run.code, 0, "{}\n{seen}{}", run.stdout, run.stderr);
    assert!(!seen.contains("created the shared import role"), "{seen}");
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

/// The interleaving that made the test above fail under load, driven: run B's create is
/// retried (IAM propagation) until run A of the same plan has imported every user; B's job
/// then is the only one of the plan still to run. B must report A's job, not upload its
/// rows to its own (which made a second job, all of whose rows Cognito skipped).
#[test]
fn a_run_whose_create_returns_after_another_run_of_the_plan_imported_reports_that_job() {
    let setup = Setup::new("statelatecreate");
    setup.manifest(&["alice", "bob", "carol"]);
    assert_eq!(setup.run(&["role", "--create"]).code, 0);
    let late = second_key(&setup, "L");
    emulator().set_faults(&late, json!({"role_propagation_seconds": 3600}));
    let mut b = late.spawn(setup.ws.path(), &["apply", "--yes", "--format", "json"]);
    let seen = wait_for_line(&mut b, "Cognito cannot assume the import role yet");
    let a = setup.run(&["apply", "--yes"]);
    assert_eq!(a.code, 0, "{}\n{}", a.stdout, a.stderr);
    emulator().set_faults(&late, json!({}));
    let b = finish(b);
    assert_eq!(b.code, 0, "{}\n{seen}{}", b.stdout, b.stderr);
    assert!(b.stderr.contains("of this plan already ran: reporting it"), "{seen}{}", b.stderr);
    assert_eq!(b.stderr.matches("created import job").count(), 1, "{seen}{}", b.stderr);
    assert_eq!(late.count("UploadCSV") + late.count("StartUserImportJob"), 0, "B's own job is left to expire");
    let report = report_of(&b);
    assert_eq!(report["summary"]["missing"], 0, "{report:#}");
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 1, "{ran:#?}");
    assert_eq!(ran[0]["imported"], 3);
}

/// What two overlapping plans applied at the same moment guarantee, whatever the timing
/// (README "Concurrent runs"): both exit 0, the pool holds every user, bob is imported once
/// and reported present by exactly one run, and a row can only be skipped for bob (when the
/// other plan's job ran entirely between a run's re-check and its start, see the two tests
/// below, which drive each interleaving).
#[test]
fn two_overlapping_manifests_at_once_both_succeed_and_import_the_shared_user_once() {
    let setup = Setup::new("stateoverlap");
    setup.manifest(&["alice", "bob"]);
    setup.run(&["role", "--create"]);
    let other = other_manifest(&setup, &setup.pool, &["bob", "carol"]);
    let first = setup.account.spawn(setup.ws.path(), &["apply", "--yes", "--format", "json"]);
    let second = setup.account.spawn(other.path(), &["apply", "--yes", "--format", "json"]);
    let (first, second) = (finish(first), finish(second));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    let runs = format!("{ran:#?}\n{}\n{}", first.stderr, second.stderr);
    assert_eq!(ran.len(), 2, "{runs}");
    let sum = |key: &str| ran.iter().map(|j| j[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("imported"), 3, "bob imported once: {runs}");
    assert_eq!(sum("failed"), 0, "{runs}");
    assert!(sum("skipped") <= 1, "only bob's row may be skipped: {runs}");
    let reports = [report_of(&first), report_of(&second)];
    for (report, users) in reports.iter().zip([["alice", "bob"], ["bob", "carol"]]) {
        assert_eq!(report["summary"]["missing"], 0, "{report:#}");
        for user in users {
            if let Some((state, _)) = state_of(report, user) {
                assert!(state == "present" || state == "created_elsewhere", "{user}: {report:#}");
            }
        }
    }
    let bob_present = reports.iter().filter(|r| state_of(r, "bob").is_some_and(|(s, _)| s == "present")).count();
    assert_eq!(bob_present, 1, "exactly one run imported bob: {runs}");
}

/// Run B (bob, carol) re-checked the pool and began its upload; run A (alice, bob) then ran
/// its whole job before B's upload completed and B started. Cognito skips B's row for bob
/// (it never imports a username twice): bob is imported once, B reports him created
/// elsewhere with the skip, both exit 0. No client can close this window.
#[test]
fn another_plans_job_that_ran_during_the_upload_makes_cognito_skip_the_shared_user() {
    let setup = Setup::new("stateoverlapskip");
    setup.manifest(&["alice", "bob"]);
    assert_eq!(setup.run(&["role", "--create"]).code, 0);
    let other = other_manifest(&setup, &setup.pool, &["bob", "carol"]);
    let late = second_key(&setup, "B");
    emulator().set_faults(&late, json!({"hold_upload": true}));
    let b = late.spawn(other.path(), &["apply", "--yes", "--format", "json"]);
    wait_for_upload(&late);
    let a = setup.run(&["apply", "--yes", "--format", "json"]);
    assert_eq!(a.code, 0, "{}\n{}", a.stdout, a.stderr);
    assert_eq!(state_of(&report_of(&a), "bob").unwrap().0, "present");
    emulator().set_faults(&late, json!({}));
    let b = finish(b);
    assert_eq!(b.code, 0, "{}\n{}", b.stdout, b.stderr);
    let report = report_of(&b);
    let (state, reason) = state_of(&report, "bob").unwrap();
    assert_eq!(state, "created_elsewhere", "{report:#}");
    assert!(reason.contains("the job skipped its row"), "{report:#}");
    assert_eq!(state_of(&report, "carol").unwrap().0, "present", "{report:#}");
    assert_eq!(report["jobs"][0]["job"]["skipped"], 1, "{report:#}");
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 2, "{ran:#?}");
    assert_eq!(ran.iter().map(|j| j["imported"].as_u64().unwrap()).sum::<u64>(), 3, "bob imported once");
}

/// Run B (bob, carol) re-checked and uploaded while run A's job (alice, bob) was pending:
/// B's start is refused while A's job is active, B waits for it, re-checks, and uploads only
/// carol. No job carries a row for a user that existed at its upload.
#[test]
fn another_plans_job_active_at_the_start_is_waited_for_and_the_shared_user_dropped() {
    let setup = Setup::new("stateoverlapwait");
    setup.manifest(&["alice", "bob"]);
    assert_eq!(setup.run(&["role", "--create"]).code, 0);
    let other = other_manifest(&setup, &setup.pool, &["bob", "carol"]);
    let late = second_key(&setup, "B");
    emulator().set_faults(&late, json!({"hold_upload": true}));
    let mut b = late.spawn(other.path(), &["apply", "--yes", "--format", "json"]);
    wait_for_upload(&late);
    // A's job stays Pending (the account's one active job) until B waits for it.
    setup.faults(json!({"hold_start": true}));
    let mut a = setup.account.spawn(setup.ws.path(), &["apply", "--yes", "--format", "json"]);
    wait_for_line(&mut a, "started import job");
    emulator().set_faults(&late, json!({}));
    let b_seen = wait_for_line(&mut b, "Cognito runs one at a time per account and region: waiting for it");
    setup.faults(json!({}));
    let a = finish(a);
    assert_eq!(a.code, 0, "{}\n{}", a.stdout, a.stderr);
    let b = finish(b);
    assert_eq!(b.code, 0, "{}\n{b_seen}{}", b.stdout, b.stderr);
    let report = report_of(&b);
    let (state, reason) = state_of(&report, "bob").unwrap();
    assert_eq!(state, "created_elsewhere", "{report:#}");
    assert!(reason.contains("before the upload"), "{report:#}");
    assert_eq!(state_of(&report, "carol").unwrap().0, "present", "{report:#}");
    assert_eq!(state_of(&report_of(&a), "bob").unwrap().0, "present");
    has_all(&setup, &["alice", "bob", "carol"]);
    let ran = jobs_with_rows(&setup);
    assert_eq!(ran.len(), 2, "{ran:#?}");
    for job in &ran {
        assert_eq!(job["skipped"], 0, "a job carried a row for a user that existed at its upload: {ran:#?}");
    }
    assert_eq!(ran.iter().map(|j| j["imported"].as_u64().unwrap()).sum::<u64>(), 3, "bob imported once");
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
