//! Pacing against the emulator: parallel walks give the sequential plan, quotas are
//! honoured with retries, the account's quotas are read when permitted.

use serde_json::json;

use crate::common::Workspace;
use crate::common::emulator::emulator;
use crate::plan::{comparable, counts, names, plan, plan_json};

/// Four thousand users: a walk of 67 pages, above the one-chain threshold.
const POOL: usize = 4000;

fn declared() -> String {
    let mut users: String = (0..POOL)
        .step_by(397)
        .map(|i| format!("  - username: user{i:06}\n    email: user{i:06}@example.com\n"))
        .collect();
    users.push_str("  - username: user000001\n    email: someone.else@example.com\n");
    users.push_str("  - username: newcomer\n    email: newcomer@example.com\n");
    users
}

#[test]
fn a_partitioned_walk_gives_the_sequential_plan() {
    let account = emulator().account("pace-walk");
    let pool_id = emulator().seed_pool(&account, "pace-walk", POOL, &[]);
    let ws = Workspace::new();
    let users = declared();

    emulator().reset_counts(&account);
    let one_chain = plan_json(&account, &ws, &pool_id, &users, &["--read", "list-one-chain"]);
    assert_eq!(counts(&account)["ListUsers"], 67);

    emulator().reset_counts(&account);
    let partitioned = plan_json(&account, &ws, &pool_id, &users, &["--read", "list-all"]);
    let list_users = counts(&account)["ListUsers"];
    // 16 partitions of about 250 users: 5 pages each, a partial page per partition at most
    assert!((67..=67 + 16).contains(&list_users), "{list_users}");

    assert_eq!(one_chain, partitioned);
    assert_eq!(names(&partitioned, "to_import"), ["newcomer"]);
    assert_eq!(names(&partitioned, "drifted"), ["user000001"]);
    assert_eq!(names(&partitioned, "in_sync").len(), 11);
    assert_eq!(partitioned["summary"]["unmanaged"], POOL - 12);

    // and the look-ups agree too
    let looked_up = plan_json(&account, &ws, &pool_id, &users, &["--read", "look-up"]);
    assert_eq!(comparable(looked_up), comparable(partitioned));
}

#[test]
fn an_enforced_quota_slows_the_run_down_and_never_fails_it() {
    let account = emulator().account("pace-quota");
    let pool_id = emulator().seed_pool(&account, "pace-quota", POOL, &[]);
    let ws = Workspace::new();
    let users = declared();
    let calm = plan_json(&account, &ws, &pool_id, &users, &["--read", "list-all"]);

    // The account allows 10 ListUsers a second; the run is told to send 40.
    emulator().set_faults(&account, json!({"quotas": {"UserList": 10, "UserRead": 20}}));
    emulator().reset_counts(&account);
    let run = plan(
        &account,
        &ws,
        &pool_id,
        &users,
        &["--format", "json", "--show-pii", "-v", "--read", "list-all", "--max-rps", "user-list=40"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let throttled: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let counts = counts(&account);
    assert!(counts.get("Throttled").copied().unwrap_or(0) > 0, "{counts:?}");
    assert_eq!(throttled, calm);
    assert!(run.stderr.contains("pace: UserList: throttled, slowing to"), "{}", run.stderr);
    assert!(run.stderr.contains("throttled,"), "the summary counts them: {}", run.stderr);

    // Without an explicit rate, the account's quota (GetProvisionedLimit) sets the pace:
    // half of 20 AdminGetUser a second, and nothing is throttled.
    emulator().reset_counts(&account);
    let run = plan(&account, &ws, &pool_id, &users, &["--format", "json", "--show-pii", "-v", "--read", "look-up"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("pace: UserRead: the account's quota is 20/s, using up to 10/s"), "{}", run.stderr);
    assert_eq!(crate::plan::counts(&account).get("Throttled"), None);
    emulator().set_faults(&account, json!({}));
}

#[test]
fn a_caller_that_may_not_read_the_quotas_keeps_the_documented_ones() {
    let account = emulator().account("pace-deny");
    let pool_id = emulator().seed_pool(&account, "pace-deny", 30, &[]);
    let ws = Workspace::new();
    emulator().set_faults(&account, json!({"deny": ["GetProvisionedLimit"]}));
    let users = "  - username: user000003\n    email: user000003@example.com\n";
    let quiet = plan(&account, &ws, &pool_id, users, &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("AccessDenied"), "quietly: {}", quiet.stderr);
    let verbose = plan(&account, &ws, &pool_id, users, &["-v"]);
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    assert!(
        verbose.stderr.contains(
            "pace: UserList: the account's quota is not readable (AccessDeniedException); assuming the documented 30/s"
        ),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose.stderr.contains("pace: UserPoolRead: 4 requests at up to 7.5/s (documented quota 15/s)"),
        "{}",
        verbose.stderr
    );
    emulator().set_faults(&account, json!({}));
}

/// A walk whose chain outlives its pagination token (`token_ttl_seconds`, for this access
/// key) restarts the chain and gives the plan of a calm walk, whichever error an expired
/// token answers (switch and probe `expired_token_error`) and whenever its hour starts
/// (switch and probe `token_hour_start`). The second page is throttled six times after the
/// first page: the pacer's back-off (at least 3.15 s) outlasts the 2 s token.
fn a_chain_outliving_its_token_restarts(name: &str, switches: serde_json::Value) {
    let account = emulator().account(name);
    let pool_id = emulator().seed_pool(&account, name, 130, &[]);
    let ws = Workspace::new();
    let users = "  - username: user000003\n    email: user000003@example.com\n  - username: user000129\n    email: other@example.com\n  - username: newcomer\n    email: newcomer@example.com\n";
    // Explicit rates: the throttling must not slow the restarted chain below one page a
    // token's lifetime.
    let args = ["--read", "list-one-chain", "--max-rps", "user-list=1000"];
    let calm = plan_json(&account, &ws, &pool_id, users, &args);

    let mut faults = json!({
        "token_ttl_seconds": 2,
        "throttle": {"operations": ["ListUsers"], "after": 1, "count": 6},
    });
    faults.as_object_mut().unwrap().extend(switches.as_object().unwrap().clone());
    emulator().set_faults(&account, faults);
    emulator().reset_counts(&account);
    let outlived = plan_json(&account, &ws, &pool_id, users, &args);
    // page 1, page 2 throttled six times and then refused as expired, then the chain again
    assert_eq!(counts(&account)["ListUsers"], 1 + 6 + 1 + 3, "{:?}", counts(&account));
    assert_eq!(outlived, calm);
    assert_eq!(names(&outlived, "to_import"), ["newcomer"]);
    assert_eq!(names(&outlived, "drifted"), ["user000129"]);
    assert_eq!(outlived["summary"]["unmanaged"], 128);
    emulator().set_faults(&account, json!({}));
}

#[test]
fn an_expired_token_restarts_the_chain() {
    a_chain_outliving_its_token_restarts("pace-token", json!({}));
}

#[test]
fn an_expired_token_answered_not_authorized_restarts_the_chain() {
    a_chain_outliving_its_token_restarts("pace-token-na", json!({"expired_token_error": "NotAuthorizedException"}));
}

#[test]
fn a_token_whose_hour_starts_at_its_own_page_restarts_the_chain() {
    a_chain_outliving_its_token_restarts("pace-token-own", json!({"token_hour_start": "issuing_page"}));
}

/// Whatever quota category Cognito counts GetCSVHeader, ListGroups, CreateGroup and the
/// import-job calls against (switches and probes `category_*`), a run that is throttled
/// there slows down and retries (`crate::pace`: a throttled request halves its category's
/// rate and is retried): here they count against pool-resource categories of one request a
/// second, and `apply` still imports, creates the groups and ends in sync.
#[test]
fn operations_counted_against_other_categories_are_throttled_and_retried() {
    let account = emulator().account("pace-categories");
    let pool_id = emulator().seed_pool(&account, "pace-categories", 3, &[]);
    emulator().set_faults(
        &account,
        json!({
            "quotas": {"UserPoolResourceRead": 1, "UserPoolResourceUpdate": 1},
            "category_get_csv_header": "UserPoolResourceRead",
            "category_list_groups": "UserPoolResourceRead",
            "category_create_group": "UserPoolResourceUpdate",
            "category_import_jobs": "UserPoolResource",
        }),
    );
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        &format!(
            "version: 1\npool:\n  id: {pool_id}\nimport:\n  role: cs-{}\ndefaults:\n  email_verified: true\ngroups:\n  staff:\n  admins:\nusers:\n  - username: user000000\n    email: user000000@example.com\n    groups: [staff]\n  - username: alice\n    email: alice@example.com\n    groups: [staff, admins]\n  - username: bob\n    email: bob@example.com\n",
            account.access_key.to_lowercase()
        ),
    );
    let run = |args: &[&str]| -> crate::common::Run {
        account.cognito_sync().current_dir(ws.path()).args(args).output().unwrap().into()
    };
    emulator().reset_counts(&account);
    let apply = run(&["apply", "--yes", "-v"]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    let sent = counts(&account);
    assert!(sent.get("Throttled").copied().unwrap_or(0) > 0, "{sent:?}");
    assert!(apply.stderr.contains("throttled, slowing to"), "{}", apply.stderr);
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "in sync after the throttled apply:\n{}\n{}", plan.stdout, plan.stderr);
    let state: serde_json::Value = serde_json::from_str(&emulator().http(
        "GET",
        &format!("/_emulator/users?pool_id={pool_id}&region={}", account.region),
        "",
    ))
    .unwrap();
    assert_eq!(state["users"]["alice"]["groups"], json!(["admins", "staff"]));
    assert_eq!(state["users"]["user000000"]["groups"], json!(["staff"]));
    emulator().set_faults(&account, json!({}));
}
