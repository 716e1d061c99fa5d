//! Groups and enabled state (SPEC §8) against the emulator: plan's `to change` class, the
//! groups to create, both ways of reading memberships and what each costs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::emulator::{TestAccount, emulator};
use crate::common::{Run, Workspace};

/// Adds `count` users `<prefix>000000`... to the pool, as another admin would: `groups` they
/// belong to (created when missing) and their enabled state.
fn add_users(account: &TestAccount, pool_id: &str, prefix: &str, count: usize, groups: &[&str], enabled: bool) {
    let body = json!({"pool_id": pool_id, "region": account.region, "count": count, "prefix": prefix,
                      "groups": groups, "enabled": enabled});
    emulator().http("POST", "/_emulator/seed-users", &body.to_string());
}

/// The pool as moto holds it, read around cognito-sync.
fn pool_state(account: &TestAccount, pool_id: &str) -> Value {
    let body = emulator().http("GET", &format!("/_emulator/users?pool_id={pool_id}&region={}", account.region), "");
    serde_json::from_str(&body).expect("pool state JSON")
}

fn counts(account: &TestAccount) -> BTreeMap<String, u64> {
    emulator().counts(account).into_iter().filter(|(_, n)| *n > 0).collect()
}

fn run(account: &TestAccount, ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Run {
    account.cognito_sync().current_dir(ws.path()).args(args).envs(env.iter().copied()).output().expect("run").into()
}

fn plan_json(account: &TestAccount, ws: &Workspace, env: &[(&str, &str)]) -> Value {
    let run = run(account, ws, &["plan", "--format", "json", "--detailed-exitcode"], env);
    assert_eq!(run.code, 2, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).expect("plan JSON")
}

fn manifest(pool_id: &str) -> String {
    format!(
        "version: 1
pool:
  id: {pool_id}
import:
  role: cs-groups-{pool_id}
defaults:
  email_verified: true
groups:
  staff:
  admins:
    description: Administrators
    precedence: 1
users:
  - username: user000000
    email: user000000@example.com
    groups: [staff, admins]
  - username: user000001
    email: user000001@example.com
    enabled: false
  - username: gone000000
    email: gone000000@example.com
  - username: staff000000
    email: staff000000@example.com
    groups: [staff]
  - username: staff000001
    email: staff000001@example.com
    groups: [legacy]
  - username: newbie
    email: newbie@example.com
    enabled: false
    groups: [admins]
"
    )
}

/// A pool the project did not create: users, groups and a disabled user made by others.
fn seeded(name: &str) -> (TestAccount, String) {
    let account = emulator().account(name);
    let pool_id = emulator().seed_pool(&account, name, 3, &[]);
    add_users(&account, &pool_id, "staff", 2, &["staff", "legacy"], true);
    add_users(&account, &pool_id, "gone", 1, &[], false);
    (account, pool_id)
}

#[test]
fn plan_shows_changes_groups_to_create_and_unmanaged_memberships() {
    let (account, pool_id) = seeded("groups-plan");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));

    let text = run(&account, &ws, &["plan"], &[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    for expected in [
        "1 group to create:\n  + group admins (description \"Administrators\", precedence 1)\n",
        "      enabled = false (disabled right after its import)\n      groups = [admins]\n",
        "3 users to change:\n  ~ user000000\n      + group admins\n      + group staff\n  ~ user000001\n      enabled = true -> false\n  ~ gone000000\n      enabled = false -> true\n",
        "Plan: 1 to import, 3 to change, 2 in sync, 0 drifted (not updated), 1 unmanaged (untouched), 1 group to create, 2 unmanaged memberships (untouched)\n",
    ] {
        assert!(text.stdout.contains(expected), "missing {expected:?} in:\n{}", text.stdout);
    }

    emulator().reset_counts(&account);
    let walked = plan_json(&account, &ws, &[]);
    assert_eq!(walked["pool"]["membership_read"], "group_walk");
    // One ListGroups page, one ListUsersInGroup page for each mentioned group that exists.
    let walk_counts = counts(&account);
    assert_eq!(walk_counts.get("ListGroups"), Some(&1), "{walk_counts:?}");
    assert_eq!(walk_counts.get("ListUsersInGroup"), Some(&2), "{walk_counts:?}");
    assert_eq!(walk_counts.get("AdminListGroupsForUser"), None, "{walk_counts:?}");

    emulator().reset_counts(&account);
    let per_user = plan_json(&account, &ws, &[("COGNITO_SYNC_READ_GROUPS", "per-user")]);
    let user_counts = counts(&account);
    // One AdminListGroupsForUser per existing declared user.
    assert_eq!(user_counts.get("AdminListGroupsForUser"), Some(&5), "{user_counts:?}");
    assert_eq!(user_counts.get("ListUsersInGroup"), None, "{user_counts:?}");

    let comparable = |mut plan: Value| {
        plan["pool"]["membership_read"] = Value::Null;
        plan
    };
    assert_eq!(comparable(walked.clone()), comparable(per_user));
    assert_eq!(
        walked["to_change"],
        json!([
            {"index": 0, "username": "user000000", "pool_username": "user000000", "add_groups": ["admins", "staff"], "set_enabled": null},
            {"index": 1, "username": "user000001", "pool_username": "user000001", "add_groups": [], "set_enabled": false},
            {"index": 2, "username": "gone000000", "pool_username": "gone000000", "add_groups": [], "set_enabled": true},
        ])
    );
    assert_eq!(walked["summary"]["existing_user_changes"], 4);
    assert_eq!(walked["summary"]["new_user_changes"], 2);
    assert_eq!(walked["only_creates_users"], false);
    // plan only reads.
    assert_eq!(pool_state(&account, &pool_id)["groups"].as_object().unwrap().len(), 2);
}

#[test]
fn a_group_neither_declared_nor_in_the_pool_is_refused_before_any_change() {
    let (account, pool_id) = seeded("groups-unknown");
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        &format!(
            "version: 1\npool:\n  id: {pool_id}\nusers:\n  - username: user000000\n    email: user000000@example.com\n    email_verified: true\n    groups: [staf]\n"
        ),
    );
    let out = run(&account, &ws, &["plan"], &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("group `staf` is neither declared under `groups:` nor in pool"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `staff`?"), "{}", out.stderr);
}

#[test]
fn export_writes_groups_memberships_and_disabled_users_so_plan_shows_nothing() {
    let (account, pool_id) = seeded("groups-export");
    let ws = Workspace::new();
    let export = run(&account, &ws, &["export", "-o", "users.yaml", "--pool-id", &pool_id], &[]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(ws.path().join("users.yaml")).unwrap();
    assert!(text.contains("groups:\n  legacy: {}\n  staff: {}\nusers:\n"), "{text}");
    assert!(text.contains("  - username: gone000000\n    email: gone000000@example.com\n    email_verified: true\n    enabled: false\n"), "{text}");
    assert!(text.contains("  - username: staff000001\n    email: staff000001@example.com\n    email_verified: true\n    groups:\n    - legacy\n    - staff\n"), "{text}");
    let plan = run(&account, &ws, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes: 0 to import, 0 to change, 6 in sync, 0 drifted (not updated), 0 unmanaged (untouched), 0 unmanaged memberships (untouched)\n"), "{}", plan.stdout);
}

/// The users' enabled state and groups, as moto holds them.
fn users_state(account: &TestAccount, pool_id: &str) -> BTreeMap<String, (bool, Vec<String>)> {
    let state = pool_state(account, pool_id);
    state["users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, u)| {
            let groups = u["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_owned()).collect();
            (name.clone(), (u["enabled"].as_bool().unwrap(), groups))
        })
        .collect()
}

fn expect_users(account: &TestAccount, pool_id: &str, expected: &[(&str, bool, &[&str])]) {
    let state = users_state(account, pool_id);
    for (name, enabled, groups) in expected {
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        assert_eq!(state.get(*name), Some(&(*enabled, groups)), "{name}: {state:?}");
    }
}

const DECLARED: &[(&str, bool, &[&str])] = &[
    ("user000000", true, &["admins", "staff"]),
    ("user000001", false, &[]),
    ("user000002", true, &[]),
    ("gone000000", true, &[]),
    ("staff000000", true, &["legacy", "staff"]),
    ("staff000001", true, &["legacy", "staff"]),
    ("newbie", false, &["admins"]),
];

#[test]
fn plan_apply_plan_creates_groups_sets_state_adds_memberships_then_nothing() {
    let (account, pool_id) = seeded("groups-apply");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));
    emulator().reset_counts(&account);
    let apply = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    for expected in [
        "Second phase: 7 done, 0 failed\n",
        "  ok create group `admins`\n  ok disable `newbie`\n  ok disable `user000001`\n  ok enable `gone000000`\n",
        "  ok add `user000000` to group `admins`\n  ok add `user000000` to group `staff`\n",
    ] {
        assert!(
            apply.stdout.contains(expected),
            "missing {expected:?} in:\n{}\nstderr:\n{}",
            apply.stdout,
            apply.stderr
        );
    }
    let sent = counts(&account);
    for (operation, n) in
        [("CreateGroup", 1), ("AdminDisableUser", 2), ("AdminEnableUser", 1), ("AdminAddUserToGroup", 3)]
    {
        assert_eq!(sent.get(operation), Some(&n), "{operation}: {sent:?}");
    }
    // newbie's membership in `admins` needs the group first: created, then joined.
    let state = pool_state(&account, &pool_id);
    assert_eq!(state["groups"]["admins"], json!({"description": "Administrators", "precedence": 1, "role_arn": null}));
    expect_users(&account, &pool_id, DECLARED);

    let again = run(&account, &ws, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes: 0 to import, 0 to change, 6 in sync"), "{}", again.stdout);
    // And apply again sends nothing.
    emulator().reset_counts(&account);
    let idle = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(idle.code, 0, "{}", idle.stderr);
    let counts = counts(&account);
    for operation in
        ["CreateGroup", "AdminDisableUser", "AdminEnableUser", "AdminAddUserToGroup", "CreateUserImportJob"]
    {
        assert_eq!(counts.get(operation), None, "{operation}: {counts:?}");
    }
}

#[test]
fn a_user_whose_import_failed_gets_no_change_and_is_reported() {
    let (account, pool_id) = seeded("groups-failed");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));
    emulator().set_faults(&account, json!({"fail_rows": ["newbie"]}));
    emulator().reset_counts(&account);
    let apply = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(apply.code, 1, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains("  missing `newbie` is not in the pool (its import failed): no group or state change was sent\n"),
        "{}",
        apply.stdout
    );
    // The others' changes went through; newbie's did not go out at all.
    let sent = counts(&account);
    assert_eq!(sent.get("AdminAddUserToGroup"), Some(&2), "{sent:?}");
    assert_eq!(sent.get("AdminDisableUser"), Some(&1), "{sent:?}");
    expect_users(&account, &pool_id, &DECLARED[..6]);
    assert!(!users_state(&account, &pool_id).contains_key("newbie"));
}

#[test]
fn throttling_of_the_second_phase_is_retried() {
    let (account, pool_id) = seeded("groups-throttle");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));
    emulator().set_faults(
        &account,
        json!({"throttle": {"operations": ["AdminAddUserToGroup", "AdminDisableUser", "CreateGroup"], "count": 4}}),
    );
    emulator().reset_counts(&account);
    let apply = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("Second phase: 7 done, 0 failed\n"), "{}", apply.stdout);
    let sent = counts(&account);
    let throttled_ops: u64 = ["AdminAddUserToGroup", "AdminDisableUser", "CreateGroup"]
        .iter()
        .map(|op| sent.get(*op).copied().unwrap_or(0))
        .sum();
    // 6 changes of these kinds, plus the 4 throttled attempts retried.
    assert_eq!(throttled_ops, 6 + 4, "{sent:?}");
    expect_users(&account, &pool_id, DECLARED);
}

#[test]
fn max_changes_refuses_before_any_change() {
    let (account, pool_id) = seeded("groups-max");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));
    emulator().reset_counts(&account);
    let refused = run(&account, &ws, &["apply", "--yes", "--max-changes", "3"], &[]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("refusing 4 changes to existing users: `--max-changes` is 3"),
        "{}",
        refused.stderr
    );
    let sent = counts(&account);
    for operation in ["CreateGroup", "AdminDisableUser", "AdminAddUserToGroup", "CreateUserImportJob", "CreateRole"] {
        assert_eq!(sent.get(operation), None, "{operation}: {sent:?}");
    }
    let allowed = run(&account, &ws, &["apply", "--yes", "--max-changes", "4"], &[]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    expect_users(&account, &pool_id, DECLARED);
}

#[test]
fn a_saved_plan_carries_the_second_phase_under_its_digest() {
    let (account, pool_id) = seeded("groups-saved");
    let ws = Workspace::new();
    ws.write("users.yaml", &manifest(&pool_id));
    let plan = run(&account, &ws, &["plan", "-o", "plan.json"], &[]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(ws.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["post_import"].as_array().unwrap().len(), 1 + 1 + 3, "{}", saved["post_import"]);
    // An edit of the second phase is refused before any request.
    let mut edited = saved.clone();
    edited["post_import"][1]["groups"] = json!(["admins", "staff"]);
    ws.write("edited.json", &edited.to_string());
    let refused = run(&account, &ws, &["apply", "edited.json", "--yes"], &[]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("was changed after it was made"), "{}", refused.stderr);
    // The manifest may change: the saved plan is what was reviewed.
    ws.write("users.yaml", "not: a manifest\n");
    let apply = run(&account, &ws, &["apply", "plan.json", "--yes"], &[]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    expect_users(&account, &pool_id, DECLARED);
}

#[test]
fn email_sign_in_pools_change_the_pool_username() {
    let account = emulator().account("groups-email");
    let pool_id = emulator().seed_pool(&account, "groups-email", 2, &["--username-attributes", "email"]);
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        &format!(
            "version: 1
pool:
  id: {pool_id}
import:
  role: cs-groups-{pool_id}
defaults:
  email_verified: true
groups:
  staff:
users:
  - username: first
    email: user000000@example.com
    groups: [staff]
  - username: second
    email: user000001@example.com
    enabled: false
  - username: alice
    email: alice@example.com
    enabled: false
    groups: [staff]
"
        ),
    );
    let apply = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    let state = pool_state(&account, &pool_id);
    let by_email: BTreeMap<String, (bool, Vec<String>)> = state["users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, u)| {
            // Usernames are UUIDs here: nothing is addressed by the declared name.
            assert!(!["first", "second", "alice"].contains(&name.as_str()), "{name}");
            let groups = u["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_owned()).collect();
            (u["attributes"]["email"].as_str().unwrap().to_owned(), (u["enabled"].as_bool().unwrap(), groups))
        })
        .collect();
    assert_eq!(by_email["user000000@example.com"], (true, vec!["staff".to_owned()]));
    assert_eq!(by_email["user000001@example.com"], (false, vec![]));
    assert_eq!(by_email["alice@example.com"], (false, vec!["staff".to_owned()]));
    let again = run(&account, &ws, &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

#[test]
fn apply_killed_in_the_second_phase_resumes_without_repeating() {
    let account = emulator().account("groups-kill");
    let pool_id = emulator().seed_pool(&account, "groups-kill", 40, &[]);
    let ws = Workspace::new();
    let mut text = format!(
        "version: 1\npool:\n  id: {pool_id}\nimport:\n  role: cs-groups-{pool_id}\ndefaults:\n  email_verified: true\n  groups: [a, b]\ngroups:\n  a:\n  b:\nusers:\n"
    );
    for i in 0..40 {
        text.push_str(&format!("  - username: user{i:06}\n    email: user{i:06}@example.com\n"));
    }
    ws.write("users.yaml", &text);
    emulator().reset_counts(&account);
    // 2 groups + 80 memberships at 10 a second: about 8 seconds; killed after about 2.
    let mut child = account.spawn(ws.path(), &["apply", "--yes"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while account.count("AdminAddUserToGroup") < 10 {
        assert!(std::time::Instant::now() < deadline, "the second phase did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = account.count("AdminAddUserToGroup");
    assert!(before < 80, "killed too late: {before}");
    let again = run(&account, &ws, &["apply", "--yes"], &[]);
    assert_eq!(again.code, 0, "stdout:\n{}\nstderr:\n{}", again.stdout, again.stderr);
    // Nothing twice, nothing lost.
    assert_eq!(account.count("AdminAddUserToGroup"), 80);
    assert_eq!(account.count("CreateGroup"), 2);
    let state = users_state(&account, &pool_id);
    assert!(
        state.values().all(|(enabled, groups)| *enabled && groups == &["a".to_owned(), "b".to_owned()]),
        "{state:?}"
    );
}
