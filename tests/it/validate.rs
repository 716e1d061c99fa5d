//! `validate` and the other offline commands, through the binary.

use crate::common::{Run, Workspace, cognito_sync};

const HEAD: &str = "version: 1\npool:\n  id: us-east-1_AbC123\nusers:\n";

/// Runs `validate` on `text` and checks the contract for a bad manifest: exit 1, nothing on
/// stdout, nothing written. Returns stderr.
fn invalid(text: &str) -> String {
    let ws = Workspace::new();
    let path = ws.write("users.yaml", text);
    let run: Run = cognito_sync().current_dir(ws.path()).arg("validate").arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(ws.files(), ["users.yaml"], "validate must write nothing");
    run.stderr
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(haystack.contains(needle), "missing {needle:?} in:\n{haystack}");
    }
}

#[test]
fn the_example_manifest_is_valid() {
    let run: Run = cognito_sync()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["validate", "examples/users.yaml"])
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "ok: `examples/users.yaml` is valid: 3 users for pool `us-east-1_AbCdEf123`\n");
}

#[test]
fn not_yaml() {
    let err = invalid("version: 1\npool: {id: x\n  - [\n");
    assert_contains(&err, &["1 problem in manifest", "users.yaml:", "help: check the YAML syntax"]);
}

#[test]
fn yaml_that_is_not_a_mapping() {
    let err = invalid("- alice\n- bob\n");
    assert_contains(
        &err,
        &["expected a mapping (`version: 1`, `pool`, `users`, ...), found sequence", "users.yaml:1:1"],
    );
}

#[test]
fn empty_file() {
    let err = invalid("");
    assert_contains(&err, &["the manifest is empty", "examples/users.yaml"]);
    let err = invalid("# only a comment\n");
    assert_contains(&err, &["the manifest is empty"]);
}

#[test]
fn missing_version() {
    let err = invalid("pool:\n  id: us-east-1_AbC123\n");
    assert_contains(&err, &["missing required key `version`", "add `version: 1`"]);
}

#[test]
fn unknown_version() {
    let err = invalid("version: 7\npool:\n  id: us-east-1_AbC123\nnew_key: 1\n");
    assert_contains(
        &err,
        &["manifest version `7` is not supported: cognito-sync 0.1.0 reads version 1", "users.yaml:1:1"],
    );
}

#[test]
fn unknown_keys_at_every_level() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    emial: alice@example.com\n"));
    assert_contains(
        &err,
        &["users[0].emial (`alice`): unknown key `emial`", "users.yaml:6:5", "did you mean `email`?"],
    );
    let err = invalid("version: 1\npool:\n  id: us-east-1_AbC123\n  regoin: us-east-1\n");
    assert_contains(&err, &["pool.regoin: unknown key `regoin`", "users.yaml:4:3", "did you mean `region`?"]);
    let err = invalid("version: 1\npool:\n  id: us-east-1_AbC123\nuser: []\n");
    assert_contains(&err, &["unknown key `user`", "did you mean `users`?"]);
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: a@example.com\n    custom:department: eng\n"));
    assert_contains(&err, &["unknown key `custom:department`", "custom attributes go in the `custom` map"]);
    let err = invalid("version: 1\npool:\n  id: us-east-1_AbC123\ndefaults:\n  email_verfied: true\n");
    assert_contains(&err, &["defaults.email_verfied: unknown key", "did you mean `email_verified`?"]);
}

#[test]
fn duplicate_usernames_also_by_case() {
    let err = invalid(&format!(
        "{HEAD}  - username: alice\n    email: a@example.com\n  - username: alice\n    email: b@example.com\n  - username: ALICE\n    email: c@example.com\n"
    ));
    assert_contains(
        &err,
        &[
            "2 problems",
            "users[1].username (`alice`): username `alice` is declared twice (first at users[0])",
            "users[2].username (`ALICE`): username `ALICE` differs from users[0] `alice` only in case",
            "users.yaml:7:5",
            "users.yaml:9:5",
        ],
    );
}

#[test]
fn empty_username() {
    let err = invalid(&format!("{HEAD}  - username: ''\n    email: a@example.com\n"));
    assert_contains(&err, &["users[0].username: the username is empty", "users.yaml:5:5"]);
}

#[test]
fn invalid_email() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: alice@@example.com\n"));
    assert_contains(&err, &["`alice@@example.com` is not a valid email address", "users.yaml:6:5"]);
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: CHANGE_ME\n"));
    assert_contains(&err, &["`CHANGE_ME` is not a valid email address"]);
}

#[test]
fn phone_not_in_e164() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    phone_number: '(555) 555-0100'\n"));
    assert_contains(
        &err,
        &["phone number `(555) 555-0100` is not in E.164 form", "users.yaml:6:5", "`'+15555550100'`"],
    );
    // In flow style, YAML reads an unquoted number and drops the `+`.
    let err =
        invalid("version: 1\npool: {id: us-east-1_AbC123}\nusers: [{username: alice, phone_number: +15555550100}]\n");
    assert_contains(&err, &["users[0].phone_number (`alice`): expected a string, found integer", "quote the value"]);
}

#[test]
fn boolean_given_as_a_string() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: a@example.com\n    email_verified: 'yes'\n"));
    assert_contains(
        &err,
        &[
            "users[0].email_verified (`alice`): expected a boolean, found string \"yes\"",
            "write `true` or `false`",
            "users.yaml:7:21",
        ],
    );
}

#[test]
fn neither_email_nor_phone() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    given_name: Alice\n"));
    assert_contains(&err, &["users[0] (`alice`): the user has neither `email` nor `phone_number`", "users.yaml:5:5"]);
}

#[test]
fn mfa_without_phone() {
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: a@example.com\n    mfa_enabled: true\n"));
    assert_contains(&err, &["`mfa_enabled: true` needs a phone number", "users.yaml:7:5"]);
}

#[test]
fn line_breaks_and_control_characters() {
    let err = invalid(&format!(
        "{HEAD}  - username: alice\n    email: a@example.com\n    address: \"1 Main St\\nSpringfield\"\n"
    ));
    assert_contains(&err, &["`address` contains a line break (\\n)", "users.yaml:7:5"]);
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: a@example.com\n    nickname: \"bell\\u0007\"\n"));
    assert_contains(&err, &["`nickname` contains a control character"]);
}

#[test]
fn value_over_the_attribute_limit() {
    let long = "x".repeat(2049);
    let err = invalid(&format!("{HEAD}  - username: alice\n    email: a@example.com\n    profile: {long}\n"));
    assert_contains(&err, &["`profile` is 2049 characters long", "at most 2048 characters"]);
}

#[test]
fn invalid_username_pattern() {
    let err = invalid("version: 1\npool:\n  id: us-east-1_AbC123\nrules:\n  username_pattern: '^[a-z'\n");
    assert_contains(&err, &["rules.username_pattern: `^[a-z` is not a valid regular expression", "users.yaml:5:3"]);
}

#[test]
fn custom_attribute_name_cognito_rejects() {
    let err = invalid(&format!(
        "{HEAD}  - username: alice\n    email: a@example.com\n    custom:\n      'has space': x\n      twenty_one_characters: y\n"
    ));
    assert_contains(
        &err,
        &[
            "`has space` is not a name Cognito allows for a custom attribute",
            "`twenty_one_characters` is not a name",
            "users.yaml:8:7",
        ],
    );
}

#[test]
fn file_that_does_not_exist_or_cannot_be_read() {
    let ws = Workspace::new();
    let run: Run = cognito_sync().current_dir(ws.path()).arg("validate").output().unwrap().into();
    assert_eq!(run.code, 1);
    assert_contains(
        &run.stderr,
        &[
            "cannot read manifest `users.yaml`",
            "No such file or directory",
            "help: write one from an existing pool with `cognito-sync export --pool-id POOL_ID -o users.yaml`",
        ],
    );
    // See: #15. A typo in the name: the file meant, as a command that runs when pasted.
    ws.write("user.yaml", "version: 1\npool:\n  id: eu-west-1_Abc\nusers: []\n");
    let run: Run = cognito_sync().current_dir(ws.path()).args(["validate", "users.yaml"]).output().unwrap().into();
    assert_eq!(run.code, 1);
    let hint = crate::common::hint_after(&run.stderr, "did you mean `user.yaml`? ");
    assert_eq!(hint, "cognito-sync validate user.yaml");
    let pasted = crate::common::paste(ws.path(), &hint, [("HOME", "/nonexistent")]);
    assert_eq!(pasted.code, 0, "{}", pasted.stderr);
    std::fs::remove_file(ws.path().join("user.yaml")).unwrap();
    let run: Run = cognito_sync().arg("validate").arg(ws.path()).output().unwrap().into();
    assert_eq!(run.code, 1);
    assert_contains(&run.stderr, &["cannot read manifest", "check that the path names a readable file"]);
    let path = ws.write("latin1.yaml", "");
    std::fs::write(&path, b"version: 1\nname: caf\xe9\n").unwrap();
    let run: Run = cognito_sync().arg("validate").arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1);
    assert_contains(&run.stderr, &["save the manifest as UTF-8"]);
}

#[test]
fn a_hundred_thousand_users_with_one_error_in_the_middle() {
    let mut text =
        String::from("version: 1\npool:\n  id: us-east-1_AbC123\ndefaults:\n  email_verified: true\nusers:\n");
    for i in 0..100_000 {
        let domain = if i == 54_321 { "example" } else { "example.com" };
        text.push_str(&format!("  - username: user{i}\n    email: user{i}@{domain}\n    given_name: User\n"));
    }
    let err = invalid(&text);
    let line = 6 + 54_321 * 3 + 2;
    assert_contains(
        &err,
        &[
            "1 problem in manifest",
            "users[54321].email (`user54321`): `user54321@example` is not a valid email address",
            &format!("users.yaml:{line}:5"),
        ],
    );
}

#[test]
fn all_problems_are_reported_at_once_and_counted() {
    let err = invalid(
        "version: 1\npool:\n  id: us-east-1_AbC123\nrules:\n  username_pattern: '('\nusers:\n  - username: a\n    email: nope\n  - username: b\n    phone_number: '123'\n  - username: c\n    email: c@example.com\n    email_verified: maybe\n",
    );
    assert_contains(&err, &["4 problems in manifest"]);
    let order = ["rules.username_pattern", "users[0].email", "users[1].phone_number", "users[2].email_verified"];
    let positions: Vec<usize> =
        order.iter().map(|p| err.find(p).unwrap_or_else(|| panic!("{p} missing:\n{err}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "problems are not sorted:\n{err}");
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let run: Run = cognito_sync().arg("frobnicate").output().unwrap().into();
    assert_eq!(run.code, 1);
    let run: Run = cognito_sync().arg("--help").output().unwrap().into();
    assert_eq!(run.code, 0);
    assert_contains(&run.stdout, &["Exit status:", "2  only with `plan --detailed-exitcode`"]);
}

#[test]
fn schema_prints_the_committed_schema() {
    let run: Run = cognito_sync().arg("schema").output().unwrap().into();
    assert_eq!(run.code, 0);
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/manifest.v1.json")).unwrap();
    assert_eq!(run.stdout, committed);
}

// See: #15. `--pool-id` is checked offline like `pool.id`, and a valid one is not blocked by
// a bad `pool.id`.
#[test]
fn pool_id_flag_is_checked_offline_and_overrides_a_bad_pool_id() {
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        "version: 1\npool:\n  id: not-a-pool\n  region: nowhere\nusers:\n  - username: alice\n    email: alice@example.com\n",
    );
    let run: Run =
        cognito_sync().current_dir(ws.path()).args(["validate", "--pool-id", "eu-west-1_Abc"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "ok: `users.yaml` is valid: 1 user for pool `eu-west-1_Abc`\n");
    assert_eq!(
        run.stderr,
        "warning: `pool.id` in `users.yaml` (`not-a-pool`) is not a user pool id; using `--pool-id eu-west-1_Abc`\n"
    );
    for command in ["validate", "plan", "role", "apply", "jobs", "export"] {
        let run: Run =
            cognito_sync().current_dir(ws.path()).args([command, "--pool-id", "eu-west-1"]).output().unwrap().into();
        assert_eq!(run.code, 1, "{command}: {}", run.stderr);
        assert_contains(
            &run.stderr,
            &[
                "`--pool-id` (or `COGNITO_SYNC_POOL_ID`) is `eu-west-1`, which is not a user pool id",
                "help: a pool id is",
            ],
        );
    }
    let run: Run = cognito_sync()
        .current_dir(ws.path())
        .arg("validate")
        .env("COGNITO_SYNC_POOL_ID", "x_")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_contains(&run.stderr, &["is `x_`, which is not a user pool id"]);
}

// See: #15. The offline commands refuse the AWS flags instead of ignoring them.
#[test]
fn offline_commands_refuse_aws_flags() {
    let ws = Workspace::new();
    ws.write("users.yaml", "version: 1\npool:\n  id: eu-west-1_Abc\nusers: []\n");
    for args in [
        &["validate", "--region", "eu-west-1"][..],
        &["schema", "--profile", "p", "--endpoint-url", "http://x"],
        &["man", "--region", "x"],
    ] {
        let run: Run = cognito_sync().current_dir(ws.path()).args(args).output().unwrap().into();
        assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{args:?}: {}", run.stderr);
        assert_contains(
            &run.stderr,
            &[&format!("`{}` never calls AWS, so it does not take", args[0]), "help: drop it"],
        );
    }
    // AWS settings from the environment are not flags: nothing to refuse.
    let run: Run = cognito_sync()
        .current_dir(ws.path())
        .arg("validate")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL", "http://x")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// See: #15. `validate` cannot tell new users from existing ones, but names the usernames that
// `plan` would hold to `rules.username_pattern`.
#[test]
fn usernames_off_the_team_rule_are_named_at_validate() {
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        "version: 1\npool:\n  id: eu-west-1_Abc\nrules:\n  username_pattern: '^[a-z]+$'\nusers:\n  - username: alice\n    email: a@example.com\n  - username: Bob\n    email: b@example.com\n",
    );
    let run: Run = cognito_sync().current_dir(ws.path()).arg("validate").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: 1 username does not match `rules.username_pattern` `^[a-z]+$`: `Bob`; `plan` rejects it unless already in the pool (existing users are exempt)\n"
    );
}
