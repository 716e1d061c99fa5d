//! The product against the other answer of an undocumented Cognito behaviour: each test
//! flips one of the emulator's switches (tests/emulator/README.md; the conformance kit's
//! probe of the same name asks a real account) for its own access key only.

use serde_json::json;

use crate::common::emulator::emulator;
use crate::common::{Run, Workspace};

/// GetCSVHeader spelling a custom attribute's column `department` instead of
/// `custom:department` (probe `custom_column_spelling`): the value still goes into it, and
/// the next plan finds the user in sync.
#[test]
fn a_bare_custom_column_carries_the_custom_attribute() {
    let emulator = emulator();
    let account = emulator.account("barecustom");
    emulator.set_faults(&account, json!({"custom_column_spelling": "bare_name"}));
    let pool = emulator.seed_pool(&account, "barecustom", 0, &["--custom-attr", "department"]);
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        &format!(
            "version: 1\npool:\n  id: {pool}\nimport:\n  role: cs-{}\nusers:\n  - username: alice\n    email: alice@example.com\n    email_verified: true\n    custom:\n      department: eng\n",
            account.access_key.to_lowercase()
        ),
    );
    let run =
        |args: &[&str]| -> Run { account.cognito_sync().current_dir(ws.path()).args(args).output().unwrap().into() };

    let plan = run(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let header: Vec<String> = serde_json::from_value(report["csv_header"].clone()).unwrap();
    assert!(
        header.contains(&"department".to_owned()) && !header.contains(&"custom:department".to_owned()),
        "{header:?}"
    );

    let apply = run(&["apply", "--yes"]);
    assert_eq!(apply.code, 0, "stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("Succeeded: 1 imported, 0 skipped, 0 failed of 1"), "{}", apply.stdout);

    let plan = run(&["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(plan.code, 0, "the imported user must be in sync, custom attribute included:\n{}", plan.stdout);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(report["summary"]["in_sync"], 1);
}

/// Cognito keeping a surrounding pair of double quotes, or stripping it (probe
/// `quote_characters`): a value wrapped in quotes is refused before any request, naming the
/// attribute; quotes anywhere else are carried, and the next plan finds the user in sync,
/// under both answers.
#[test]
fn values_with_double_quotes_converge_whether_cognito_strips_a_pair_or_not() {
    for (i, answer) in ["literal", "stripped"].into_iter().enumerate() {
        let emulator = emulator();
        let name = format!("quotes{i}");
        let account = emulator.account(&name);
        emulator.set_faults(&account, json!({"quote_characters": answer}));
        let pool = emulator.seed_pool(&account, &name, 0, &["--custom-attr", "department"]);
        let ws = Workspace::new();
        let head = format!(
            "version: 1\npool:\n  id: {pool}\nimport:\n  role: cs-{}\nusers:\n  - username: alice\n    email: alice@example.com\n    email_verified: true\n",
            account.access_key.to_lowercase()
        );
        let run = |args: &[&str]| -> Run {
            account.cognito_sync().current_dir(ws.path()).args(args).output().unwrap().into()
        };

        ws.write("users.yaml", &format!("{head}    nickname: '\"Al\"'\n"));
        emulator.reset_counts(&account);
        let plan = run(&["plan"]);
        assert_eq!(plan.code, 1, "{answer}: {}", plan.stderr);
        assert!(plan.stderr.contains("`nickname` is wrapped in double quotes"), "{answer}: {}", plan.stderr);
        assert!(plan.stderr.contains("help: remove the surrounding quotes"), "{answer}: {}", plan.stderr);
        assert!(emulator.counts(&account).is_empty(), "{answer}: an invalid manifest sent a request");

        ws.write(
            "users.yaml",
            &format!("{head}    nickname: 'say \"hi\"'\n    given_name: '\"Al'\n    custom:\n      department: '\"eng\" team'\n"),
        );
        let apply = run(&["apply", "--yes"]);
        assert_eq!(apply.code, 0, "{answer}: stdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
        let plan = run(&["plan", "--detailed-exitcode", "--format", "json"]);
        assert_eq!(plan.code, 0, "{answer}: the imported user must be in sync:\n{}", plan.stdout);
    }
}

/// Cognito's FAILED reason quoting the row's value, or only naming the column (probe
/// `failed_reason_wording`): `apply` and `jobs` print the reason's useful part and never
/// the value, under both answers. The value fails the row because the pool's custom
/// attribute is a Number, which the manifest cannot know.
#[test]
fn a_failed_rows_value_never_reaches_the_output_whatever_the_reason_says() {
    const VALUE: &str = "NotANumber-7h3x";
    for (i, answer) in ["names_column", "echoes_value"].into_iter().enumerate() {
        let emulator = emulator();
        let name = format!("reason{i}");
        let account = emulator.account(&name);
        emulator.set_faults(&account, json!({"failed_reason_wording": answer}));
        let pool = emulator.seed_pool(&account, &name, 0, &["--custom-attr", "score:Number"]);
        let ws = Workspace::new();
        ws.write(
            "users.yaml",
            &format!(
                "version: 1\npool:\n  id: {pool}\nimport:\n  role: cs-{}\ndefaults:\n  email_verified: true\nusers:\n  - username: alice\n    email: alice@example.com\n    custom:\n      score: {VALUE}\n  - username: bob\n    email: bob@example.com\n    custom:\n      score: '12'\n",
                account.access_key.to_lowercase()
            ),
        );
        let run = |args: &[&str]| -> Run {
            account.cognito_sync().current_dir(ws.path()).args(args).output().unwrap().into()
        };
        let useful = "The value of custom:score is not a number.";
        // `apply` prints the plan it executes first, custom values shown as `plan` shows
        // them; what follows it (the jobs and the pool read back) must not hold the value.
        let clean = |what: &str, run: &Run| {
            let report = run.stdout.find("\nimport job `").map_or(run.stdout.as_str(), |at| &run.stdout[at..]);
            assert!(
                !report.contains(VALUE) && !run.stderr.contains(VALUE),
                "{answer}: {what} printed the value:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        };

        for format in ["text", "json"] {
            let apply = run(&["apply", "--yes", "--format", format]);
            assert_eq!(apply.code, 1, "{answer}: alice is missing\n{}\n{}", apply.stdout, apply.stderr);
            clean("apply", &apply);
            assert!(apply.stdout.contains(useful), "{answer}: {}", apply.stdout);
        }

        let jobs = run(&["jobs", "--format", "json"]);
        assert_eq!(jobs.code, 0, "{}", jobs.stderr);
        let listed: serde_json::Value = serde_json::from_str(&jobs.stdout).unwrap();
        let id = listed["jobs"][0]["id"].as_str().unwrap().to_owned();
        for format in ["text", "json"] {
            let detail = run(&["jobs", &id, "--format", format]);
            assert_eq!(detail.code, 0, "{answer}: {}", detail.stderr);
            clean("jobs JOB_ID", &detail);
            assert!(detail.stdout.contains(useful), "{answer}: {}", detail.stdout);
        }
    }
}

/// `cognito:mfa_enabled` true enabling SMS MFA for the imported user, or no MFA method
/// (probe `mfa_enabled_true`): apply reads the user back and, in a pool whose MFA is
/// optional, reports one left without MFA (exit 1, with the command that enables it). In a
/// pool whose MFA is on, Cognito asks every user to set MFA up at sign-in, so nothing is read.
#[test]
fn a_user_declared_with_mfa_is_reported_when_the_import_enabled_none() {
    let cases = [
        ("sms_mfa", "OPTIONAL", "text"),
        ("none", "OPTIONAL", "text"),
        ("none", "OPTIONAL", "json"),
        ("none", "ON", "text"),
    ];
    for (i, (answer, pool_mfa, format)) in cases.into_iter().enumerate() {
        let emulator = emulator();
        let name = format!("mfa{i}");
        let account = emulator.account(&name);
        emulator.set_faults(&account, json!({"mfa_enabled_true": answer}));
        let pool = emulator.seed_pool(&account, &name, 0, &["--mfa", pool_mfa]);
        let ws = Workspace::new();
        let bob_mfa = if pool_mfa == "ON" { "" } else { "    mfa_enabled: false\n" };
        ws.write(
            "users.yaml",
            &format!(
                "version: 1\npool:\n  id: {pool}\nimport:\n  role: cs-{}\ndefaults:\n  email_verified: true\nusers:\n  - username: alice\n    email: alice@example.com\n    phone_number: '+15555550100'\n    mfa_enabled: true\n  - username: bob\n    email: bob@example.com\n{bob_mfa}",
                account.access_key.to_lowercase()
            ),
        );
        let apply: Run = account
            .cognito_sync()
            .current_dir(ws.path())
            .args(["apply", "--yes", "--format", format])
            .output()
            .unwrap()
            .into();
        let reported = apply.stdout.contains("alice imported without MFA");
        if format == "json" {
            assert_eq!(apply.code, 1, "{answer}/{pool_mfa}:\n{}\n{}", apply.stdout, apply.stderr);
            let report: serde_json::Value = serde_json::from_str(&apply.stdout).unwrap();
            assert_eq!(report["summary"]["mfa_not_enabled"], 1, "{report:#}");
            assert_eq!(report["summary"]["present"], 1, "{report:#}");
            let users = report["users"].as_array().unwrap();
            let state = |name: &str| users.iter().find(|u| u["username"] == name).unwrap()["state"].clone();
            assert_eq!(state("alice"), "mfa_not_enabled");
            assert_eq!(state("bob"), "present");
        } else if (answer, pool_mfa) == ("none", "OPTIONAL") {
            assert_eq!(apply.code, 1, "{answer}/{pool_mfa}:\n{}\n{}", apply.stdout, apply.stderr);
            assert!(reported, "{answer}/{pool_mfa}: {}", apply.stdout);
            assert!(
                apply.stdout.contains(&format!(
                    "`aws cognito-idp admin-set-user-mfa-preference --user-pool-id {pool} --username alice --sms-mfa-settings Enabled=true,PreferredMfa=true`"
                )),
                "{}",
                apply.stdout
            );
            assert!(apply.stdout.contains("2 of 2 planned users present"), "{}", apply.stdout);
            assert!(!apply.stdout.contains("bob imported without MFA"), "{}", apply.stdout);
        } else {
            assert_eq!(apply.code, 0, "{answer}/{pool_mfa}:\n{}\n{}", apply.stdout, apply.stderr);
            assert!(!reported, "{answer}/{pool_mfa}: {}", apply.stdout);
        }
    }
}
