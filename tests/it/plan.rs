//! `plan` against the emulator: which users appear, how many requests it takes, and what it
//! prints and writes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::emulator::{TestAccount, emulator};
use crate::common::{Run, Workspace};

fn manifest(pool_id: &str, users: &str) -> String {
    format!("version: 1\npool:\n  id: {pool_id}\ndefaults:\n  email_verified: true\nusers:\n{users}")
}

/// Runs `plan` with `args` on a manifest holding `users`.
pub(crate) fn plan(account: &TestAccount, ws: &Workspace, pool_id: &str, users: &str, args: &[&str]) -> Run {
    let path = ws.write("users.yaml", &manifest(pool_id, users));
    account.cognito_sync().arg("plan").arg(&path).args(args).output().expect("run cognito-sync").into()
}

/// `plan --format json --show-pii`, parsed; fails the test on an unexpected exit code.
pub(crate) fn plan_json(account: &TestAccount, ws: &Workspace, pool_id: &str, users: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json", "--show-pii"];
    args.extend_from_slice(extra);
    let run = plan(account, ws, pool_id, users, &args);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).expect("plan JSON")
}

pub(crate) fn names(plan: &Value, class: &str) -> Vec<String> {
    plan[class].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
}

/// The requests made with this account since the last reset, without the zero entries.
pub(crate) fn counts(account: &TestAccount) -> BTreeMap<String, u64> {
    emulator().counts(account).into_iter().filter(|(_, n)| *n > 0).collect()
}

fn expect_counts(account: &TestAccount, expected: &[(&str, u64)]) {
    let expected: BTreeMap<String, u64> = expected.iter().map(|(op, n)| ((*op).to_owned(), *n)).collect();
    assert_eq!(counts(account), expected);
}

/// Adds `count` users named `<prefix>000000`... to a pool through the control API.
fn add_users(account: &TestAccount, pool_id: &str, prefix: &str, count: usize, attributes: Value) {
    let body = json!({"pool_id": pool_id, "region": account.region, "count": count, "prefix": prefix, "attributes": attributes});
    emulator().http("POST", "/_emulator/seed-users", &body.to_string());
}

/// The plan without what legitimately depends on how the pool was read.
pub(crate) fn comparable(mut plan: Value) -> Value {
    plan["pool"]["read_strategy"] = Value::Null;
    plan["summary"]["unmanaged_exact"] = Value::Null;
    plan["notes"] = Value::Null;
    plan
}

const MIXED: &str = "  - username: user000000
    email: user000000@example.com
  - username: user000001
    email: user000001@example.com
    given_name: Drifted
  - username: alice
    email: alice@example.com
    phone_number: '+15555550100'
    custom:
      department: engineering
";

#[test]
fn sorts_users_into_import_sync_drift_and_unmanaged_with_one_page() {
    let account = emulator().account("plan-mixed");
    let pool_id = emulator().seed_pool(&account, "plan-mixed", 5, &["--custom-attr", "department"]);
    emulator().reset_counts(&account);
    let ws = Workspace::new();
    let plan = plan_json(&account, &ws, &pool_id, MIXED, &[]);
    assert_eq!(names(&plan, "to_import"), ["alice"]);
    assert_eq!(names(&plan, "in_sync"), ["user000000"]);
    assert_eq!(names(&plan, "drifted"), ["user000001"]);
    assert_eq!(
        plan["drifted"][0]["changes"],
        json!([{"attribute": "given_name", "pool": null, "manifest": "Drifted"}])
    );
    assert_eq!(plan["summary"]["unmanaged"], 3);
    assert_eq!(plan["summary"]["unmanaged_exact"], true);
    assert_eq!(plan["to_import"][0]["attributes"]["custom:department"], "engineering");
    assert_eq!(plan["pool"]["read_strategy"], "list_all");
    assert_eq!(plan["only_creates_users"], true);
    // 5 users: one page is fewer requests than three look-ups.
    expect_counts(
        &account,
        &[("DescribeUserPool", 1), ("GetCSVHeader", 1), ("GetProvisionedLimit", 2), ("ListUsers", 1)],
    );
}

#[test]
fn text_output_masks_personal_data_and_states_it_only_creates() {
    let account = emulator().account("plan-text");
    let pool_id = emulator().seed_pool(&account, "plan-text", 5, &["--custom-attr", "department"]);
    let ws = Workspace::new();
    let run = plan(&account, &ws, &pool_id, MIXED, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.stdout;
    assert!(
        out.starts_with(&format!("cognito-sync plan for pool `{pool_id}` (`plan-text`) in `{}`", account.region)),
        "{out}"
    );
    assert!(out.contains("at endpoint `http://127.0.0.1:"), "{out}");
    assert!(out.contains("  + alice\n"), "{out}");
    assert!(out.contains("      email = \"a***@example.com\"\n"), "{out}");
    assert!(out.contains("      phone_number = \"+1******0100\"\n"), "{out}");
    assert!(!out.contains("alice@example.com") && !out.contains("5555550100"), "{out}");
    assert!(out.contains("  ~ user000001\n      given_name = (not set) -> \"D***\"\n"), "{out}");
    assert!(
        out.contains("Plan: 1 to import, 0 to change, 1 in sync, 1 drifted (not updated), 3 unmanaged (untouched)\n"),
        "{out}"
    );
    assert!(
        out.contains("attributes of existing users and existing groups are never updated, and nothing is ever deleted"),
        "{out}"
    );

    let markdown = plan(&account, &ws, &pool_id, MIXED, &["--format", "markdown"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(markdown.stdout.starts_with("### cognito-sync plan for pool"), "{}", markdown.stdout);
    assert!(markdown.stdout.contains("```diff\n+ alice\n"), "{}", markdown.stdout);
    assert!(!markdown.stdout.contains("alice@example.com"));
}

#[test]
fn both_read_strategies_give_the_same_plan_with_the_fewest_requests() {
    let account = emulator().account("plan-strategies");
    // 300 users: a walk is ceil(300/60) = 5 pages.
    let pool_id = emulator().seed_pool(&account, "plan-strategies", 300, &[]);
    let ws = Workspace::new();
    let users = "  - username: user000007\n    email: user000007@example.com\n  - username: user000299\n    email: other@example.com\n  - username: newbie\n    email: newbie@example.com\n";

    emulator().reset_counts(&account);
    let looked_up = plan_json(&account, &ws, &pool_id, users, &[]);
    assert_eq!(looked_up["pool"]["read_strategy"], "look_up");
    // 3 declared users < 5 pages.
    expect_counts(
        &account,
        &[("AdminGetUser", 3), ("DescribeUserPool", 1), ("GetCSVHeader", 1), ("GetProvisionedLimit", 2)],
    );

    emulator().reset_counts(&account);
    let walked = plan_json(&account, &ws, &pool_id, users, &["--read", "list-all"]);
    assert_eq!(walked["pool"]["read_strategy"], "list_all");
    expect_counts(
        &account,
        &[("DescribeUserPool", 1), ("GetCSVHeader", 1), ("GetProvisionedLimit", 2), ("ListUsers", 5)],
    );

    assert_eq!(names(&walked, "to_import"), ["newbie"]);
    assert_eq!(names(&walked, "in_sync"), ["user000007"]);
    assert_eq!(names(&walked, "drifted"), ["user000299"]);
    assert_eq!(walked["summary"]["unmanaged"], 298);
    assert_eq!(comparable(looked_up), comparable(walked));

    // Six declared users on five pages: the walk wins on its own.
    let six: String =
        (0..6).map(|i| format!("  - username: user{i:06}\n    email: user{i:06}@example.com\n")).collect();
    emulator().reset_counts(&account);
    let plan = plan_json(&account, &ws, &pool_id, &six, &[]);
    assert_eq!(plan["pool"]["read_strategy"], "list_all");
    assert_eq!(names(&plan, "in_sync").len(), 6);
    expect_counts(
        &account,
        &[("DescribeUserPool", 1), ("GetCSVHeader", 1), ("GetProvisionedLimit", 2), ("ListUsers", 5)],
    );
}

#[test]
fn a_case_insensitive_pool_matches_alice_to_alice_by_either_strategy() {
    let account = emulator().account("plan-case");
    let insensitive = emulator().seed_pool(&account, "plan-case-i", 120, &["--case-insensitive"]);
    let sensitive = emulator().seed_pool(&account, "plan-case-s", 120, &[]);
    for pool in [&insensitive, &sensitive] {
        add_users(&account, pool, "Alice", 1, json!({"email": "alice@example.com", "email_verified": "true"}));
    }
    let ws = Workspace::new();
    let users = "  - username: alice000000\n    email: alice@example.com\n";
    let mut plans = Vec::new();
    for read in ["look-up", "list-all"] {
        let plan = plan_json(&account, &ws, &insensitive, users, &["--read", read]);
        assert_eq!(names(&plan, "in_sync"), ["alice000000"], "{read}: {plan:#}");
        assert_eq!(plan["in_sync"][0]["pool_username"], "Alice000000");
        assert_eq!(plan["summary"]["unmanaged"], 120);
        plans.push(comparable(plan));

        let plan = plan_json(&account, &ws, &sensitive, users, &["--read", read]);
        assert_eq!(names(&plan, "to_import"), ["alice000000"], "{read}: {plan:#}");
    }
    assert_eq!(plans[0], plans[1]);
}

#[test]
fn a_pool_that_signs_in_by_email_is_matched_by_email() {
    let account = emulator().account("plan-email");
    let pool_id = emulator().seed_pool(&account, "plan-email", 200, &["--username-attributes", "email"]);
    let ws = Workspace::new();
    let users = "  - username: user000003\n    email: user000003@example.com\n  - username: fresh\n    email: fresh@example.com\n";
    emulator().reset_counts(&account);
    let looked_up = plan_json(&account, &ws, &pool_id, users, &[]);
    // Two filtered ListUsers (one per declared email) beat ceil(200/60) = 4 pages.
    expect_counts(
        &account,
        &[("DescribeUserPool", 1), ("GetCSVHeader", 1), ("GetProvisionedLimit", 2), ("ListUsers", 2)],
    );
    let walked = plan_json(&account, &ws, &pool_id, users, &["--read", "list-all"]);
    for plan in [&looked_up, &walked] {
        assert_eq!(names(plan, "in_sync"), ["user000003"]);
        assert_ne!(plan["in_sync"][0]["pool_username"], "user000003", "the pool stores a UUID");
        assert_eq!(names(plan, "to_import"), ["fresh"]);
        assert!(plan["notes"][0].as_str().unwrap().contains("undocumented"), "{plan:#}");
    }
    assert_eq!(comparable(looked_up), comparable(walked));
}

#[test]
fn throttling_is_retried_and_the_plan_stays_exact() {
    let account = emulator().account("plan-throttle");
    let pool_id = emulator().seed_pool(&account, "plan-throttle", 130, &[]);
    let ws = Workspace::new();
    let users: String = (0..4)
        .map(|i| format!("  - username: user{:06}\n    email: user{:06}@example.com\n", i * 40, i * 40))
        .collect();
    let users = format!("{users}  - username: newcomer\n    email: newcomer@example.com\n");
    let calm = plan_json(&account, &ws, &pool_id, &users, &[]);

    emulator().set_faults(
        &account,
        json!({"throttle": {"count": 3, "rate": 0.3, "operations": ["ListUsers", "DescribeUserPool", "GetCSVHeader"]},
               "server_error": {"count": 1, "operations": ["ListUsers"]}, "seed": 11}),
    );
    emulator().reset_counts(&account);
    let throttled = plan_json(&account, &ws, &pool_id, &users, &[]);
    emulator().set_faults(&account, json!({}));
    assert_eq!(throttled, calm);
    assert_eq!(names(&throttled, "to_import"), ["newcomer"]);
    assert_eq!(throttled["summary"]["unmanaged"], 126);
    let counts = counts(&account);
    // ceil(130/60) = 3 pages, each retried until it succeeded.
    assert!(counts["ListUsers"] > 3, "{counts:?}");

    // Look-ups run a few at a time; each throttled one is retried on its own.
    emulator().set_faults(
        &account,
        json!({"throttle": {"count": 4, "rate": 0.3, "operations": ["AdminGetUser"]}, "seed": 5}),
    );
    emulator().reset_counts(&account);
    let looked_up = plan_json(&account, &ws, &pool_id, &users, &["--read", "look-up"]);
    emulator().set_faults(&account, json!({}));
    assert_eq!(comparable(looked_up), comparable(calm));
    let counts = crate::plan::counts(&account);
    assert!(counts["AdminGetUser"] >= 5 + 4, "{counts:?}");
}

#[test]
fn an_invalid_manifest_sends_nothing() {
    let account = emulator().account("plan-invalid");
    let ws = Workspace::new();
    let pool_id = format!("{}_Nothing1", account.region);
    let run = plan(&account, &ws, &pool_id, "  - username: a\n    email: not-an-email\n", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("users[0].email"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(counts(&account), BTreeMap::new());
}

#[test]
fn pool_aware_problems_are_reported_together() {
    let account = emulator().account("plan-problems");
    let pool_id = emulator().seed_pool(&account, "plan-problems", 2, &["--custom-attr", "department"]);
    let ws = Workspace::new();
    let users = "  - username: user000000\n    email: user000000@example.com\n    custom:\n      team: x\n  - username: Bad Name?\n    email: b@example.com\n  - username: noverify\n    email: n@example.com\n    email_verified: false\n";
    let text = format!(
        "version: 1\npool:\n  id: {pool_id}\nrules:\n  username_pattern: '^[a-z0-9]+$'\ndefaults:\n  email_verified: true\nusers:\n{}",
        users.replace("Bad Name?", "Bad_Name")
    );
    let path = ws.write("users.yaml", &text);
    let run: Run = account.cognito_sync().arg("plan").arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let err = &run.stderr;
    assert!(err.contains("3 problems in manifest"), "{err}");
    assert!(
        err.contains("users[0].custom.team (`user000000`): custom attribute `custom:team` is not defined"),
        "{err}"
    );
    assert!(err.contains("users[1].username (`Bad_Name`): new username `Bad_Name` does not match"), "{err}");
    assert!(err.contains("users[2] (`noverify`): the new user sets none of pool"), "{err}");
    assert!(err.contains("users.yaml:"), "located like validate: {err}");
}

#[test]
fn detailed_exit_codes_and_private_files() {
    let account = emulator().account("plan-exit");
    let pool_id = emulator().seed_pool(&account, "plan-exit", 3, &[]);
    let ws = Workspace::new();
    let present = "  - username: user000001\n    email: user000001@example.com\n";
    let run = plan(&account, &ws, &pool_id, present, &["--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);

    let out = ws.path().join("plan.json");
    let csv = ws.path().join("import.csv");
    // A world-readable file already there is narrowed, not reused as it is.
    std::fs::write(&out, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let missing =
        format!("{present}  - username: newbie\n    email: newbie@example.com\n    given_name: 'Smith, Jr'\n");
    let run = plan(
        &account,
        &ws,
        &pool_id,
        &missing,
        &["--detailed-exitcode", "-o", out.to_str().unwrap(), "--csv", csv.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&out, &csv] {
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
        }
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(saved["schema_version"], 1);
    assert_eq!(saved["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(saved["pool"]["id"], pool_id.as_str());
    assert_eq!(saved["personal_data"], "shown");
    assert_eq!(saved["to_import"][0]["attributes"]["email"], "newbie@example.com");
    assert_eq!(saved["manifest"]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(saved["plan_digest"].as_str().unwrap().len(), 64);
    let header: Vec<&str> = saved["csv_header"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let row = saved["rows"][0].as_str().unwrap();
    assert_eq!(csv_text, format!("{}\n{row}\n", header.join(",")));
    assert!(row.contains("Smith\\, Jr"), "{row}");

    // An error is 1, and names the target.
    let run = plan(&account, &ws, &format!("{}_Missing1", account.region), present, &["--detailed-exitcode"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "user pool `{}_Missing1` does not exist in region `{}`",
            account.region, account.region
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_name_the_target_and_a_next_step() {
    let account = emulator().account("plan-errors");
    let pool_id = emulator().seed_pool(&account, "plan-errors", 1, &[]);
    let ws = Workspace::new();
    let path = ws.write("users.yaml", &manifest(&pool_id, "  - username: a\n    email: a@example.com\n"));

    // The pool id names its region; `--region` elsewhere finds no such pool.
    let other = if account.region == "eu-west-3" { "eu-north-1" } else { "eu-west-3" };
    let run: Run = account.cognito_sync().args(["plan", "--region", other]).arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "failed to describe user pool `{pool_id}` in `{other}` at endpoint `{}`: pool `{pool_id}` is not in region `{other}`: its id names region `{}`",
            emulator().endpoint,
            account.region
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!("drop `--region {other}`")), "{}", run.stderr);

    let run: Run = account
        .cognito_sync()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("plan")
        .arg(&path)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no usable AWS credentials were found"), "{}", run.stderr);
    assert!(run.stderr.contains("AWS_PROFILE"), "{}", run.stderr);

    // A closed port: connection refused, retried, then reported with the endpoint.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoint = format!("http://{closed}");
    let run: Run =
        account.cognito_sync().env("AWS_ENDPOINT_URL", &endpoint).arg("plan").arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the endpoint could not be reached"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("check that `{endpoint}`")), "{}", run.stderr);
}

#[test]
fn pool_id_overrides_the_manifest() {
    let account = emulator().account("plan-override");
    let pool_id = emulator().seed_pool(&account, "plan-override", 2, &[]);
    let ws = Workspace::new();
    let users = "  - username: user000000\n    email: user000000@example.com\n";
    let other = format!("{}_Elsewhere1", account.region);
    let plan = plan_json(&account, &ws, &other, users, &["--pool-id", &pool_id]);
    assert_eq!(plan["pool"]["id"], pool_id.as_str());
    assert_eq!(names(&plan, "in_sync"), ["user000000"]);

    let path = ws.write("users.yaml", &manifest(&other, users));
    let run: Run = account
        .cognito_sync()
        .env("COGNITO_SYNC_POOL_ID", &pool_id)
        .args(["plan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("\"id\": \"{pool_id}\"")), "{}", run.stdout);
}
