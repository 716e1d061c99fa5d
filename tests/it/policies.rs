//! The IAM policies in `examples/github-actions/` are exactly what the commands need: every
//! AWS operation a command made against the emulator (counted per access key) is granted
//! by the policy the README names for that command.

use std::collections::BTreeSet;

use crate::common::Workspace;
use crate::common::emulator::emulator;

const IAM_OPERATIONS: &[&str] = &[
    "GetRole",
    "CreateRole",
    "TagRole",
    "PutRolePolicy",
    "UpdateAssumeRolePolicy",
    "ListRolePolicies",
    "GetRolePolicy",
    "ListAttachedRolePolicies",
    "GetPolicy",
    "GetPolicyVersion",
];
const LOGS_OPERATIONS: &[&str] = &["GetLogEvents", "FilterLogEvents", "DescribeLogStreams"];

/// The IAM action of an operation the emulator counted; `None` for the pre-signed upload,
/// which needs no IAM permission of the caller.
fn action(operation: &str) -> Option<String> {
    if operation == "UploadCSV" {
        None
    } else if IAM_OPERATIONS.contains(&operation) {
        Some(format!("iam:{operation}"))
    } else if LOGS_OPERATIONS.contains(&operation) {
        Some(format!("logs:{operation}"))
    } else {
        Some(format!("cognito-idp:{operation}"))
    }
}

fn granted(policy_file: &str) -> BTreeSet<String> {
    let path = format!("{}/examples/github-actions/{policy_file}", env!("CARGO_MANIFEST_DIR"));
    let policy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        match &statement["Action"] {
            serde_json::Value::String(a) => {
                actions.insert(a.clone());
            }
            serde_json::Value::Array(list) => actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned())),
            other => panic!("unexpected Action {other}"),
        }
    }
    actions
}

fn used(account: &crate::common::emulator::TestAccount) -> BTreeSet<String> {
    emulator().counts(account).keys().filter_map(|op| action(op)).collect()
}

#[test]
fn each_policy_grants_every_action_its_command_calls() {
    let emulator = emulator();
    let account = emulator.account("policies");
    let pool = emulator.seed_pool(&account, "policies", 70, &["--custom-attr", "department"]);
    let ws = Workspace::new();
    let role = format!("cs-{}", account.access_key.to_lowercase());
    let mut text = format!(
        "version: 1\npool:\n  id: {pool}\nimport:\n  role: {role}\ndefaults:\n  email_verified: true\ngroups:\n  staff:\n  admins:\nusers:\n  - username: user000001\n    email: user000001@example.com\n    groups: [staff]\n  - username: member000000\n    email: member000000@example.com\n"
    );
    // A group made by someone else, so that plan reads its members; its member is disabled,
    // so that apply's second phase enables it.
    let body = serde_json::json!({"pool_id": pool, "region": account.region, "count": 1, "prefix": "member",
                                  "groups": ["staff"], "enabled": false});
    emulator.http("POST", "/_emulator/seed-users", &body.to_string());
    text.push_str(
        "  - username: newbie\n    email: newbie@example.com\n    enabled: false\n    groups: [admins]\n    custom:\n      department: ops\n",
    );
    ws.write("users.yaml", &text);
    let run = |args: &[&str]| {
        let out = account.cognito_sync().current_dir(ws.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };

    // plan, by both read strategies.
    emulator.reset_counts(&account);
    run(&["plan"]);
    run(&["plan", "--read", "list-all"]);
    run(&["plan", "--read", "look-up"]);
    // memberships, by both read strategies.
    for how in ["group-walk", "per-user"] {
        let out = account
            .cognito_sync()
            .current_dir(ws.path())
            .env("COGNITO_SYNC_READ_GROUPS", how)
            .arg("plan")
            .output()
            .unwrap();
        assert!(out.status.success(), "{how}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // export reads what plan reads.
    run(&["export", "-o", "exported.yaml"]);
    let plan_used = used(&account);
    let plan_policy = granted("plan-policy.json");
    assert!(
        plan_used.is_subset(&plan_policy),
        "plan calls {:?} beyond plan-policy.json",
        plan_used.difference(&plan_policy).collect::<Vec<_>>()
    );

    // role --create, once, by someone allowed to write IAM.
    emulator.reset_counts(&account);
    run(&["role", "--create"]);
    // A team that opted into the scoped trust policy.
    let scoped = text.replace(&format!("role: {role}\n"), &format!("role: {role}-scoped\n  scoped_trust: true\n"));
    ws.write("scoped.yaml", &scoped);
    run(&["role", "scoped.yaml", "--create"]);
    let create_used = used(&account);
    let create_policy = granted("role-create-policy.json");
    assert!(
        create_used.is_subset(&create_policy),
        "role --create calls {:?}",
        create_used.difference(&create_policy).collect::<Vec<_>>()
    );

    // apply, in CI, with the role in place.
    emulator.reset_counts(&account);
    run(&["apply", "--yes"]);
    // jobs, with and without a job id, runs on the apply role.
    let listed = account.cognito_sync().current_dir(ws.path()).args(["jobs", "--format", "json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let job_id = listed["jobs"][0]["id"].as_str().expect("a job").to_owned();
    run(&["jobs", &job_id]);
    let apply_used = used(&account);
    let apply_policy = granted("apply-policy.json");
    assert!(
        apply_used.is_subset(&apply_policy),
        "apply calls {:?}",
        apply_used.difference(&apply_policy).collect::<Vec<_>>()
    );
    assert!(apply_used.contains("cognito-idp:CreateUserImportJob"), "{apply_used:?}");
    for action in ["CreateGroup", "AdminAddUserToGroup", "AdminDisableUser", "AdminEnableUser"] {
        assert!(apply_used.contains(&format!("cognito-idp:{action}")), "{action}: {apply_used:?}");
    }

    // And nothing granted that no command uses. Not called here, still needed:
    // iam:PassRole is checked by IAM when the job is created, not called; GetPolicy and
    // GetPolicyVersion read a role's attached managed policies, which this role has none
    // of (tests/it/role.rs covers a role with one); iam:TagRole is how IAM authorizes the
    // tags that CreateRole sets.
    let mut everything: BTreeSet<String> = plan_used.union(&apply_used).cloned().collect();
    everything.extend(create_used);
    everything.extend(["iam:PassRole", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:TagRole"].map(String::from));
    for policy in [&plan_policy, &apply_policy, &create_policy] {
        let unused: Vec<_> = policy.difference(&everything).collect();
        assert!(unused.is_empty(), "granted but never used: {unused:?}");
    }
}
