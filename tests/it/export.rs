//! `export` end to end: a pool the project did not create, exported, validated and planned.

use std::path::Path;

use serde_json::json;

use crate::common::Workspace;
use crate::common::emulator::{TestAccount, emulator};

fn seed(account: &TestAccount, pool: &str, prefix: &str, count: usize, attributes: serde_json::Value) {
    let body =
        json!({"pool_id": pool, "region": account.region, "count": count, "prefix": prefix, "attributes": attributes});
    emulator().http("POST", "/_emulator/seed-users", &body.to_string());
}

fn run(account: &TestAccount, dir: &Path, args: &[&str]) -> crate::common::Run {
    account.cognito_sync().current_dir(dir).args(args).output().unwrap().into()
}

#[test]
fn export_then_validate_then_plan_shows_nothing_on_1000_users() {
    let emulator = emulator();
    let account = emulator.account("exportbig");
    let pool = emulator.seed_pool(&account, "exportbig", 0, &["--custom-attr", "department"]);
    seed(
        &account,
        &pool,
        "zoe",
        1000,
        json!({"given_name": "Zoë {i}", "family_name": "Ångström-Łukasz", "custom:department": "dept{i}",
               "email": "{u}@example.com", "email_verified": "true", "birthdate": "02/01/1985",
               "updated_at": "1700000000"}),
    );
    // Values a manifest cannot hold: left out, or the user skipped, with a warning.
    seed(&account, &pool, "odd", 1, json!({"email": "{u}@example.com", "given_name": "two\nlines"}));
    seed(&account, &pool, "nocontact", 1, json!({"given_name": "Nobody"}));
    let ws = Workspace::new();

    let export = run(&account, ws.path(), &["export", "-o", "users.yaml", "--pool-id", &pool]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(export.stdout.is_empty(), "data goes to the file: {}", export.stdout);
    assert!(export.stderr.contains("exported 1001 of 1002 users"), "{}", export.stderr);
    assert!(export.stderr.contains("user `odd000000`: left out `given_name`"), "{}", export.stderr);
    assert!(export.stderr.contains("skipped user `nocontact000000`"), "{}", export.stderr);

    let text = std::fs::read_to_string(ws.path().join("users.yaml")).unwrap();
    // The schema as published with this version, wherever the manifest is written (see: #15).
    let modeline = format!(
        "# yaml-language-server: $schema={}/raw/v{}/schemas/manifest.v1.json\n",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.starts_with(&modeline), "{text}");
    assert!(text.contains(&format!("version: 1\npool:\n  id: {pool}\nusers:\n")), "{}", &text[..300]);
    assert!(
        text.contains(
            "  - username: zoe000007\n    given_name: Zoë 7\n    family_name: Ångström-Łukasz\n    email: zoe000007@example.com\n    email_verified: true\n    birthdate: 1985-02-01\n    updated_at: 1700000000\n    custom:\n      department: dept7\n"
        ),
        "{}",
        &text[..1200]
    );
    assert!(!text.contains("sub:") && !text.contains("two"), "no sub, no line break");
    let usernames: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("  - username: ")).collect();
    assert_eq!(usernames.len(), 1001);
    assert!(usernames.windows(2).all(|w| w[0] < w[1]), "sorted by username");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.path().join("users.yaml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let validate = run(&account, ws.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}{}", validate.stdout, validate.stderr);
    assert!(validate.stdout.contains("1001 users"), "{}", validate.stdout);

    let plan = run(&account, ws.path(), &["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(report["summary"]["to_import"], 0, "{report}");
    assert_eq!(report["summary"]["in_sync"], 1001, "{}", report["summary"]);

    // Without `--pool-id`, the pool comes from `users.yaml`; without `-o`, to stdout.
    let again = run(&account, ws.path(), &["export", "-q"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, text, "the same manifest on stdout");
    // The manifest as the first argument, like the other commands (see: #15).
    let named = run(&account, ws.path(), &["export", "users.yaml", "-q"]);
    assert_eq!((named.code, named.stdout == text), (0, true), "{}", named.stderr);
}

#[test]
fn an_existing_file_is_kept_unless_force() {
    let emulator = emulator();
    let account = emulator.account("exportforce");
    let pool = emulator.seed_pool(&account, "exportforce", 3, &[]);
    let ws = Workspace::new();
    ws.write("users.yaml", "# mine\n");

    let refused = run(&account, ws.path(), &["export", "-o", "users.yaml", "--pool-id", &pool]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("`users.yaml` already exists"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(ws.path().join("users.yaml")).unwrap(), "# mine\n");
    assert_eq!(account.count("ListUsers"), 0, "refused before any request");

    let forced = run(&account, ws.path(), &["export", "-o", "users.yaml", "--pool-id", &pool, "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let text = std::fs::read_to_string(ws.path().join("users.yaml")).unwrap();
    assert!(
        text.contains("- username: user000002\n    email: user000002@example.com\n    email_verified: true\n"),
        "{text}"
    );
    assert_eq!(ws.files(), ["users.yaml"], "no temporary file left behind");
}

#[test]
fn no_pool_id_and_no_manifest_is_a_clear_error() {
    let account = emulator().account("exportnopool");
    let ws = Workspace::new();
    let none = run(&account, ws.path(), &["export"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no `--pool-id`, and no manifest `users.yaml`"), "{}", none.stderr);
    assert!(none.stderr.contains("help:"), "{}", none.stderr);
    let bad = account.cognito_sync().current_dir(ws.path()).args(["export", "--pool-id", "nonsense"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("`--pool-id` (or `COGNITO_SYNC_POOL_ID`) is `nonsense`, which is not a user pool id")
    );
    let missing = run(&account, ws.path(), &["export", "--pool-id", "us-east-1_Abc", "-o", "no/such/dir/users.yaml"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot create a file in `no/such/dir`"), "{}", missing.stderr);
    assert!(emulator().counts(&account).is_empty(), "an unwritable directory fails before any request");
}

#[test]
fn a_pool_that_signs_in_by_email_exports_its_uuid_usernames_and_plans_clean() {
    let emulator = emulator();
    let account = emulator.account("exportsignin");
    let pool = emulator.seed_pool(&account, "exportsignin", 5, &["--username-attributes", "email"]);
    let ws = Workspace::new();
    let export = run(&account, ws.path(), &["export", "-o", "users.yaml", "--pool-id", &pool]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(export.stderr.contains("signs in by `email`: its usernames are UUIDs"), "{}", export.stderr);
    let plan = run(&account, ws.path(), &["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(report["summary"]["in_sync"], 5, "{}", report["summary"]);
}

#[test]
fn ctrl_c_during_export_leaves_no_file_behind() {
    let emulator = emulator();
    let account = emulator.account("exportint");
    let pool = emulator.seed_pool(&account, "exportint", 3000, &[]);
    let ws = Workspace::new();
    // 50 pages at 2 requests a second: long enough to be interrupted.
    let mut child = account.spawn(ws.path(), &["export", "-o", "users.yaml", "--pool-id", &pool, "--max-rps", "2"]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let interrupted = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(ws.files().is_empty(), "left behind: {:?}", ws.files());
}

// See: #15. A pool with optional MFA: users' MFA settings are not read, and export says so.
#[test]
fn optional_mfa_is_not_dropped_without_a_word() {
    let emulator = emulator();
    let account = emulator.account("exportmfa");
    let pool = emulator.seed_pool(&account, "exportmfa", 2, &["--mfa", "OPTIONAL"]);
    let ws = Workspace::new();
    let export = run(&account, ws.path(), &["export", "--pool-id", &pool]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export.stderr.contains(&format!(
            "warning: pool `{pool}` has optional MFA, and export does not read each user's MFA settings"
        )),
        "{}",
        export.stderr
    );
    assert!(!export.stdout.contains("mfa_enabled"), "{}", export.stdout);
    let off = emulator.seed_pool(&account, "exportmfaoff", 1, &[]);
    let export = run(&account, ws.path(), &["export", "--pool-id", &off]);
    assert!(!export.stderr.contains("MFA"), "{}", export.stderr);
}

/// An export whose `ListUsers` chain outlives its pagination token (`token_ttl_seconds`, for
/// this access key) reads the partition again and writes the manifest of a calm export,
/// whichever error an expired token answers (switch `expired_token_error`) and whenever its
/// hour starts (switch `token_hour_start`). As in `pace.rs`: after the first page, the
/// second is throttled six times, and the pacer's back-off (at least 3.15 s) outlasts the
/// 2 s token. `users` users: 130 are one chain; 4,000 are 16 partitions by `sub`, read one
/// after another, and only the first is read again.
fn an_export_outliving_its_token(name: &str, users: usize, switches: serde_json::Value) {
    let emulator = emulator();
    let account = emulator.account(name);
    let pool = emulator.seed_pool(&account, name, 0, &[]);
    // Values left out with a warning, once however often their partition is read (seeded
    // first: the emulator lists a chain in the order users were made, so the one chain's
    // first page, read before its token expires, holds them).
    seed(&account, &pool, "odd", 2, json!({"email": "{u}@example.com", "given_name": "two\nlines"}));
    seed(&account, &pool, "user", users, json!({"email": "{u}@example.com", "given_name": "Given {i}"}));
    let ws = Workspace::new();
    // Explicit rates: the throttling must not slow the partition read again below one page
    // a token's lifetime.
    let args = ["export", "--pool-id", &pool, "--max-rps", "user-list=1000"];
    emulator.reset_counts(&account);
    let calm = run(&account, ws.path(), &args);
    assert_eq!(calm.code, 0, "{}", calm.stderr);
    let calm_requests = emulator.counts(&account)["ListUsers"];
    let one_chain = (users as u64 + 2).div_ceil(60);
    if users > 3840 {
        // partitions (each ends on a partly filled page), not one chain
        assert!((one_chain + 1..=one_chain + 16).contains(&calm_requests), "{calm_requests}");
    } else {
        assert_eq!(calm_requests, one_chain);
    }

    let mut faults = json!({
        "token_ttl_seconds": 2,
        "throttle": {"operations": ["ListUsers"], "after": 1, "count": 6},
    });
    faults.as_object_mut().unwrap().extend(switches.as_object().unwrap().clone());
    emulator.set_faults(&account, faults);
    emulator.reset_counts(&account);
    let outlived = run(&account, ws.path(), &args);
    emulator.set_faults(&account, json!({}));
    assert_eq!(outlived.code, 0, "{}", outlived.stderr);
    // page 1, page 2 throttled six times and then refused as expired, then the partition again
    assert_eq!(emulator.counts(&account)["ListUsers"], calm_requests + 1 + 6 + 1, "{:?}", emulator.counts(&account));
    assert_eq!(outlived.stdout, calm.stdout, "the manifest of a calm export");
    let total = users + 2;
    let usernames: Vec<&str> = outlived.stdout.lines().filter_map(|l| l.strip_prefix("  - username: ")).collect();
    assert_eq!(usernames.len(), total, "every user once");
    assert!(usernames.windows(2).all(|w| w[0] < w[1]), "sorted by username");
    assert!(outlived.stderr.contains(&format!("exported {total} of {total} users")), "{}", outlived.stderr);
    assert_eq!(calm.stderr.matches("left out `given_name`").count(), 2, "{}", calm.stderr);
    // The same warnings: none twice, and no user read twice (which would be skipped as a
    // duplicate).
    let warnings = |stderr: &str| stderr.lines().filter(|l| l.starts_with("warning:")).collect::<Vec<_>>().join("\n");
    assert_eq!(warnings(&outlived.stderr), warnings(&calm.stderr));
}

#[test]
fn an_expired_token_reads_the_chain_again() {
    an_export_outliving_its_token("exporttoken", 130, json!({}));
}

#[test]
fn an_expired_token_answered_not_authorized_reads_the_chain_again() {
    an_export_outliving_its_token("exporttokenna", 130, json!({"expired_token_error": "NotAuthorizedException"}));
}

#[test]
fn an_expired_token_reads_only_its_partition_again() {
    an_export_outliving_its_token("exporttokenpart", 4000, json!({"token_hour_start": "issuing_page"}));
}

#[test]
fn an_expired_token_answered_not_authorized_reads_only_its_partition_again() {
    an_export_outliving_its_token("exporttokenpartna", 4000, json!({"expired_token_error": "NotAuthorizedException"}));
}
