//! Pure tests of the diff, the pool-aware checks and the renderers: a manifest and a pool
//! built as values, where "the pool already matches" is the starting point.

use std::collections::BTreeMap;

use super::render::{RenderOptions, markdown, text};
use super::report::{report, to_json};
use super::*;
use crate::manifest::SourceText;
use crate::output::Paint;
use crate::pool::SchemaAttribute;

const HEAD: &str = "version: 1\npool:\n  id: eu-west-1_Test1\ndefaults:\n  email_verified: true\n";

fn manifest(body: &str) -> ValidManifest {
    let source = SourceText { path: "users.yaml".into(), text: format!("{HEAD}{body}").into() };
    let raw = crate::manifest::parse(&source).expect("parses");
    crate::manifest::validate(&source, raw).expect("valid offline")
}

fn remote(username: &str, attributes: &[(&str, &str)]) -> RemoteUser {
    RemoteUser {
        username: username.to_owned(),
        attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        status: "CONFIRMED".to_owned(),
        enabled: true,
        groups: Default::default(),
    }
}

fn header() -> Vec<String> {
    let mut header: Vec<String> = crate::manifest::STANDARD_ATTRIBUTES
        .iter()
        .filter(|a| a.field != "mfa_enabled")
        .map(|a| a.column.to_owned())
        .collect();
    header.extend(["custom:department", "cognito:mfa_enabled", "cognito:username"].map(str::to_owned));
    header
}

fn pool(users: Vec<RemoteUser>) -> ObservedPool {
    let mut schema: BTreeMap<String, SchemaAttribute> = crate::manifest::STANDARD_ATTRIBUTES
        .iter()
        .filter(|a| a.field != "mfa_enabled")
        .map(|a| (a.column.to_owned(), SchemaAttribute { required: false, mutable: true, custom: false }))
        .collect();
    schema.insert("sub".into(), SchemaAttribute { required: true, mutable: false, custom: false });
    schema.insert("custom:department".into(), SchemaAttribute { required: false, mutable: true, custom: true });
    ObservedPool {
        id: "eu-west-1_Test1".into(),
        name: "test".into(),
        csv_header: header(),
        schema,
        ..ObservedPool::fixture(users)
    }
}

const THREE: &str = "users:
  - username: alice
    email: alice@example.com
    given_name: Alice
    birthdate: 1985-02-01
  - username: bob
    email: bob@example.com
    custom:
      department: eng
  - username: carol
    email: carol@example.com
    phone_number: '+15555550100'
";

fn messages(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn sorts_users_into_import_sync_drift_and_counts_unmanaged() {
    let m = manifest(THREE);
    let p = pool(vec![
        // In sync, with the birthdate as a CSV import stores it.
        remote(
            "alice",
            &[
                ("email", "alice@example.com"),
                ("email_verified", "TRUE"),
                ("given_name", "Alice"),
                ("birthdate", "02/01/1985"),
            ],
        ),
        // Drifted: department differs; extra pool attributes are ignored.
        remote(
            "bob",
            &[("email", "bob@example.com"), ("email_verified", "true"), ("custom:department", "ops"), ("locale", "fr")],
        ),
        remote("zed", &[("email", "zed@example.com")]),
        remote("yann", &[("email", "yann@example.com")]),
    ]);
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.to_import.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["carol"]);
    assert_eq!(plan.in_sync.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice"]);
    assert_eq!(
        plan.drifted[0].changes,
        [AttributeDrift { attribute: "custom:department".into(), pool: Some("ops".into()), manifest: "eng".into() }]
    );
    assert_eq!(plan.unmanaged, Unmanaged { count: 2, exact: true });
    assert!(plan.has_changes());
}

#[test]
fn a_missing_attribute_is_drift_and_mfa_is_never_compared() {
    let m = manifest(
        "users:\n  - username: a\n    email: a@example.com\n    phone_number: '+15555550100'\n    mfa_enabled: true\n",
    );
    let mut p = pool(vec![remote("a", &[("email", "a@example.com"), ("email_verified", "true")])]);
    p.mfa = PoolMfa::Optional;
    let plan = diff(&m, &p).unwrap();
    assert_eq!(
        plan.drifted[0].changes,
        [AttributeDrift { attribute: "phone_number".into(), pool: None, manifest: "+15555550100".into() }]
    );
}

#[test]
fn case_insensitive_pools_match_usernames_in_any_case() {
    let m = manifest("users:\n  - username: alice\n    email: alice@example.com\n");
    let mut p = pool(vec![remote("Alice", &[("email", "alice@example.com"), ("email_verified", "true")])]);
    assert_eq!(diff(&m, &p).unwrap().to_import.len(), 1, "a case-sensitive pool holds both");
    p.case_sensitive = false;
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.to_import.len(), 0);
    assert_eq!(plan.in_sync[0].pool_username, "Alice");
    assert_eq!(plan.unmanaged.count, 0);
}

#[test]
fn sign_in_by_email_pools_match_by_email_and_say_it_is_undocumented() {
    let m = manifest(THREE);
    let mut p = pool(vec![
        remote(
            "2f9c-uuid",
            &[
                ("email", "alice@example.com"),
                ("email_verified", "true"),
                ("given_name", "Alice"),
                ("birthdate", "1985-02-01"),
            ],
        ),
        remote("bob", &[("email", "someone@example.com")]),
    ]);
    p.username_attributes = vec!["email".into()];
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.in_sync[0].pool_username, "2f9c-uuid");
    assert_eq!(plan.to_import.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["bob", "carol"]);
    assert_eq!(plan.unmanaged.count, 1);
    assert!(plan.notes[0].contains("undocumented"), "{:?}", plan.notes);
}

#[test]
fn look_ups_count_unmanaged_users_from_the_estimate() {
    let m = manifest(THREE);
    let mut p = pool(vec![remote("alice", &[("email", "alice@example.com")])]);
    p.users = ObservedUsers::Found(p.users.users().to_vec());
    p.estimated_users = 1000;
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.unmanaged, Unmanaged { count: 999, exact: false });
    assert_eq!(plan.pool.read, ReadStrategy::LookUp);
}

// See: #15. One mistake, one problem: a misspelt custom attribute of a new user is not also
// "a column the import header lacks", and the advice names the attribute meant.
#[test]
fn a_misspelt_custom_attribute_is_one_problem_with_did_you_mean() {
    // Copied into several users (or set under `defaults`), it is one problem too.
    let user = |name: &str| {
        format!("  - username: {name}\n    email: {name}@example.com\n    custom:\n      departmnt: eng\n")
    };
    let m = manifest(&format!("users:\n{}{}{}", user("zed"), user("yan"), user("xi")));
    let problems = diff(&m, &pool(vec![])).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "users[0].custom.departmnt (`zed`): custom attribute `custom:departmnt` is not defined in pool `eu-west-1_Test1` (also set for 2 other users)"
        ]
    );

    let m = manifest("users:\n  - username: zed\n    email: zed@example.com\n    custom:\n      departmnt: eng\n");
    let problems = diff(&m, &pool(vec![])).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "users[0].custom.departmnt (`zed`): custom attribute `custom:departmnt` is not defined in pool `eu-west-1_Test1`"
        ]
    );
    assert_eq!(
        problems[0].help.as_deref(),
        Some(
            "did you mean `department`? pool `eu-west-1_Test1` defines `custom:department`; otherwise add `custom:departmnt` to the pool (custom attributes cannot be removed later)"
        )
    );
}

#[test]
fn pool_aware_checks_report_every_problem() {
    let m = manifest(
        "rules:\n  username_pattern: '^[a-z]+$'\nusers:
  - username: Old_User
    email: old@example.com
    custom:
      team: x
  - username: New_User
    email: new@example.com
  - username: nover
    email: nover@example.com
    email_verified: false
  - username: mfa
    email: mfa@example.com
    phone_number: '+15555550100'
    mfa_enabled: true
  - username: nogiven
    email: nogiven@example.com
",
    );
    let mut p = pool(vec![remote("Old_User", &[("email", "old@example.com")])]);
    p.schema.get_mut("family_name").unwrap().required = true;
    let problems = diff(&m, &p).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "users[0].custom.team (`Old_User`): custom attribute `custom:team` is not defined in pool `eu-west-1_Test1`",
            "users[1] (`New_User`): pool `eu-west-1_Test1` requires `family_name`, which this new user does not set",
            "users[1].username (`New_User`): new username `New_User` does not match the team's `rules.username_pattern` `^[a-z]+$`",
            "users[2] (`nover`): pool `eu-west-1_Test1` requires `family_name`, which this new user does not set",
            "users[2] (`nover`): the new user sets none of pool `eu-west-1_Test1`'s auto-verified attributes (`email`) to true",
            "users[3] (`mfa`): pool `eu-west-1_Test1` requires `family_name`, which this new user does not set",
            "users[3].mfa_enabled (`mfa`): `mfa_enabled: true` but MFA is off in pool `eu-west-1_Test1`",
            "users[4] (`nogiven`): pool `eu-west-1_Test1` requires `family_name`, which this new user does not set",
        ]
    );
    // Located like validate's problems.
    assert!(problems.iter().all(|p| p.span.is_some()), "{problems:#?}");
    assert!(problems[0].help.as_deref().unwrap().contains("`custom:department`"));
}

#[test]
fn mfa_required_pools_refuse_false_and_fill_true() {
    let m = manifest(
        "users:\n  - username: a\n    email: a@example.com\n    phone_number: '+15555550100'\n    mfa_enabled: false\n  - username: b\n    email: b@example.com\n",
    );
    let mut p = pool(vec![]);
    p.mfa = PoolMfa::On;
    assert_eq!(
        messages(&diff(&m, &p).unwrap_err()),
        ["users[0].mfa_enabled (`a`): `mfa_enabled: false` but MFA is required in pool `eu-west-1_Test1`"]
    );
    let m = manifest("users:\n  - username: b\n    email: b@example.com\n");
    assert!(diff(&m, &p).unwrap().to_import[0].mfa_enabled);
}

#[test]
fn a_pool_without_auto_verified_attributes_cannot_import() {
    let m = manifest("users:\n  - username: a\n    email: a@example.com\n");
    let mut p = pool(vec![]);
    p.auto_verified.clear();
    let problems = messages(&diff(&m, &p).unwrap_err());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("pool.id: pool `eu-west-1_Test1` has no auto-verified attributes"), "{problems:?}");
    // Nothing to import: nothing to refuse.
    p.users = ObservedUsers::all(vec![remote("a", &[("email", "a@example.com"), ("email_verified", "true")])]);
    assert!(diff(&m, &p).is_ok());
}

#[test]
fn rows_are_the_import_csv_in_the_headers_order() {
    let m = manifest(THREE);
    let plan = diff(&m, &pool(vec![])).unwrap();
    let rows: Vec<Vec<&str>> = plan.rows().into_iter().map(|r| r.split(',').collect()).collect();
    let column = |name: &str| plan.csv_header.iter().position(|c| c == name).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.len() == plan.csv_header.len()));
    assert_eq!(rows[0][column("birthdate")], "02/01/1985");
    assert_eq!(rows[0][column("cognito:username")], "alice");
    assert_eq!(rows[0][column("cognito:mfa_enabled")], "false");
    assert_eq!(rows[1][column("custom:department")], "eng");
    assert_eq!(rows[1][column("phone_number")], "");
}

fn sample_plan() -> Plan {
    let m = manifest(THREE);
    let p = pool(vec![
        remote(
            "alice",
            &[
                ("email", "alice@example.com"),
                ("email_verified", "true"),
                ("given_name", "Alicia"),
                ("birthdate", "1985-02-01"),
            ],
        ),
        remote("zed", &[]),
    ]);
    diff(&m, &p).unwrap()
}

#[test]
fn text_rendering() {
    let plain = RenderOptions { show_pii: false, paint: Paint::new(false) };
    insta::assert_snapshot!(text(&sample_plan(), plain), @r#"
    cognito-sync plan for pool `eu-west-1_Test1` (`test`) in `eu-west-1`
    case-sensitive usernames, sign-in by username, MFA OFF, auto-verified: email; about 2 users in the pool (read by listing them all)

    2 users to import:
      + bob
          custom:department = "eng"
          email = "b***@example.com"
          email_verified = "true"
          cognito:mfa_enabled = false
      + carol
          email = "c***@example.com"
          email_verified = "true"
          phone_number = "+1******0100"
          cognito:mfa_enabled = false

    1 user drifted (pool -> manifest): an import job cannot update users; shown for information only
      ~ alice
          given_name = "A***" -> "A***" (differ; `--show-pii` shows them)

    Plan: 2 to import, 0 to change, 0 in sync, 1 drifted (not updated), 1 unmanaged (untouched)
    cognito-sync creates users, creates declared groups, adds declared memberships and sets the declared enabled state: attributes of existing users and existing groups are never updated, and nothing is ever deleted, whatever the drift.
    "#);
    let shown = text(&sample_plan(), RenderOptions { show_pii: true, ..plain });
    assert!(shown.contains("given_name = \"Alicia\" -> \"Alice\"\n"), "{shown}");
    assert!(shown.contains("phone_number = \"+15555550100\""), "{shown}");
}

#[test]
fn text_without_changes() {
    let m = manifest("users:\n  - username: a\n    email: a@example.com\n");
    let plan = diff(&m, &pool(vec![remote("a", &[("email", "a@example.com"), ("email_verified", "true")])])).unwrap();
    let out = text(&plan, RenderOptions { show_pii: false, paint: Paint::new(false) });
    assert!(
        out.contains(
            "\nNo changes: 0 to import, 0 to change, 1 in sync, 0 drifted (not updated), 0 unmanaged (untouched)\n"
        ),
        "{out}"
    );
}

#[test]
fn markdown_rendering() {
    insta::assert_snapshot!(markdown(&sample_plan(), false), @r#"
    ### cognito-sync plan for pool `eu-west-1_Test1` (`test`) in `eu-west-1`

    **Plan:** 2 to import, 0 to change, 0 in sync, 1 drifted (not updated), 1 unmanaged (untouched)

    > cognito-sync creates users, creates declared groups, adds declared memberships and sets the declared enabled state: attributes of existing users and existing groups are never updated, and nothing is ever deleted, whatever the drift.

    <sub>case-sensitive usernames, sign-in by username, MFA OFF, auto-verified: email; about 2 users in the pool (read by listing them all)</sub>

    #### 2 users to import

    ```diff
    + bob
    +     custom:department = "eng"
    +     email = "b***@example.com"
    +     email_verified = "true"
    +     cognito:mfa_enabled = false
    + carol
    +     email = "c***@example.com"
    +     email_verified = "true"
    +     phone_number = "+1******0100"
    +     cognito:mfa_enabled = false
    ```

    #### 1 user drifted (pool -> manifest; an import job cannot update users, shown for information only)

    ```diff
    ~ alice
    !     given_name = "A***" -> "A***"
    ```
    "#);
}

#[test]
fn markdown_always_fits_in_one_comment() {
    let body: String = (0..5000)
        .map(|i| {
            format!("  - username: user{i:05}\n    email: user{i:05}@example.com\n    address: '{}'\n", "x".repeat(100))
        })
        .collect();
    let plan = diff(&manifest(&format!("users:\n{body}")), &pool(vec![])).unwrap();
    let out = markdown(&plan, true);
    assert!(out.len() < 65_535, "{}", out.len());
    assert!(out.contains("<details><summary>5000 users to import</summary>"));
    assert!(out.contains(" more not shown here"), "{}", &out[out.len() - 400..]);
    assert!(out.trim_end().ends_with("</details>"));
}

#[test]
fn markdown_fences_survive_backticks_in_values() {
    let m = manifest("users:\n  - username: a\n    email: a@example.com\n    nickname: '```'\n");
    let out = markdown(&diff(&m, &pool(vec![])).unwrap(), true);
    assert!(out.contains("````diff\n"), "{out}");
}

#[test]
fn json_report_masks_unless_asked_and_digests_the_import() {
    let plan = sample_plan();
    let masked: serde_json::Value = serde_json::from_str(&to_json(&report(&plan, false))).unwrap();
    let shown: serde_json::Value = serde_json::from_str(&to_json(&report(&plan, true))).unwrap();
    assert_eq!(masked["schema_version"], 1);
    assert_eq!(masked["only_creates_users"], true);
    assert_eq!(masked["personal_data"], "masked");
    assert_eq!(masked["to_import"][0]["attributes"]["email"], "b***@example.com");
    assert_eq!(masked["rows"], serde_json::Value::Null);
    assert!(!masked.to_string().contains("bob@example.com"));
    assert_eq!(shown["to_import"][0]["attributes"]["email"], "bob@example.com");
    assert_eq!(shown["rows"].as_array().unwrap().len(), 2);
    assert_eq!(masked["plan_digest"], shown["plan_digest"]);
    assert_eq!(
        masked["summary"],
        serde_json::json!({"to_import": 2, "to_change": 0, "in_sync": 0, "drifted": 1, "unmanaged": 1, "unmanaged_exact": true,
            "groups_to_create": 0, "unmanaged_memberships": 0, "new_user_changes": 0, "existing_user_changes": 0})
    );
    assert_eq!(
        masked["drifted"][0]["changes"][0],
        serde_json::json!({"attribute": "given_name", "pool": "A***", "manifest": "A***"})
    );
    // The digest follows what would be imported, nothing else.
    let mut other = plan.clone();
    other.import_files.clear();
    assert_ne!(report(&other, false).plan_digest, report(&plan, false).plan_digest);
    let mut renamed = plan.clone();
    renamed.manifest_path = "elsewhere.yaml".into();
    assert_eq!(report(&renamed, false).plan_digest, report(&plan, false).plan_digest);
}

#[test]
fn alias_pools_carry_a_note() {
    let m = manifest("users:\n  - username: a\n    email: a@example.com\n");
    let mut p = pool(vec![]);
    p.alias_attributes = vec!["email".into()];
    let plan = diff(&m, &p).unwrap();
    assert!(plan.notes.iter().any(|n| n.contains("alias") && n.contains("undocumented")), "{:?}", plan.notes);
}

#[test]
fn existing_matches_wanted_users_as_diff_does() {
    let m = manifest(THREE);
    let wanted = Wanted::from_manifest(&m);
    let mut p = pool(vec![remote("ALICE", &[]), remote("uuid-1", &[("email", "carol@example.com")])]);
    assert_eq!(existing(&wanted, &p), Vec::<String>::new());
    p.case_sensitive = false;
    assert_eq!(existing(&wanted, &p), ["alice"]);
    p.username_attributes = vec!["email".into()];
    assert_eq!(existing(&wanted, &p), ["carol"]);
}

#[test]
fn a_walk_that_kept_only_matching_users_counts_the_rest() {
    let m = manifest(THREE);
    let mut p = pool(vec![remote("alice", &[("email", "alice@example.com"), ("email_verified", "true")])]);
    p.users = ObservedUsers::All { users: p.users.users().to_vec(), total: 100_000 };
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.unmanaged, Unmanaged { count: 99_999, exact: true });
}

#[test]
fn json_rendering() {
    let json = to_json(&report(&sample_plan(), false))
        .replace(&format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")), "\"version\": \"[version]\"");
    insta::assert_snapshot!(json, @r#"
    {
      "schema_version": 1,
      "command": "plan",
      "tool": {
        "name": "cognito-sync",
        "version": "[version]"
      },
      "only_creates_users": true,
      "apply_can": [
        "create_users",
        "create_groups",
        "add_memberships",
        "set_enabled"
      ],
      "statement": "cognito-sync creates users, creates declared groups, adds declared memberships and sets the declared enabled state: attributes of existing users and existing groups are never updated, and nothing is ever deleted, whatever the drift",
      "personal_data": "masked",
      "manifest": {
        "path": "users.yaml",
        "digest": "0a4bedc69eea47b705bd9b6ee9d9ebf263f0f6c710606a4d31381224fe572e56"
      },
      "pool": {
        "id": "eu-west-1_Test1",
        "name": "test",
        "region": "eu-west-1",
        "endpoint": null,
        "case_sensitive": true,
        "username_attributes": [],
        "auto_verified_attributes": [
          "email"
        ],
        "mfa": "OFF",
        "estimated_users": 2,
        "read_strategy": "list_all",
        "membership_read": null
      },
      "summary": {
        "to_import": 2,
        "to_change": 0,
        "in_sync": 0,
        "drifted": 1,
        "unmanaged": 1,
        "unmanaged_exact": true,
        "groups_to_create": 0,
        "unmanaged_memberships": 0,
        "new_user_changes": 0,
        "existing_user_changes": 0
      },
      "groups_to_create": [],
      "to_import": [
        {
          "index": 1,
          "username": "bob",
          "attributes": {
            "custom:department": "eng",
            "email": "b***@example.com",
            "email_verified": "true"
          },
          "mfa_enabled": false,
          "enabled": true,
          "groups": [],
          "password_hash": false
        },
        {
          "index": 2,
          "username": "carol",
          "attributes": {
            "email": "c***@example.com",
            "email_verified": "true",
            "phone_number": "+1******0100"
          },
          "mfa_enabled": false,
          "enabled": true,
          "groups": [],
          "password_hash": false
        }
      ],
      "to_change": [],
      "group_drift": [],
      "drifted": [
        {
          "index": 0,
          "username": "alice",
          "pool_username": "alice",
          "changes": [
            {
              "attribute": "given_name",
              "pool": "A***",
              "manifest": "A***"
            }
          ]
        }
      ],
      "in_sync": [],
      "notes": [],
      "password_hashes": null,
      "csv_header": [
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
        "custom:department",
        "cognito:mfa_enabled",
        "cognito:username"
      ],
      "rows": null,
      "role": "cognito-sync-import",
      "scoped_trust": false,
      "post_import": [],
      "plan_digest": "95c9c0c38d654f98940b2afe28f823eac8ce135ef478385dd41a135d995936ee"
    }
    "#);
}

const GROUPS: &str = "groups:
  staff:
  admins:
    precedence: 1
users:
  - username: alice
    email: alice@example.com
    groups: [staff, admins]
  - username: bob
    email: bob@example.com
    enabled: false
  - username: carol
    email: carol@example.com
  - username: dave
    email: dave@example.com
    groups: [legacy]
  - username: erin
    email: erin@example.com
    enabled: false
    groups: [staff]
";

fn member(mut user: RemoteUser, groups: &[&str], enabled: bool) -> RemoteUser {
    user.groups = groups.iter().map(|g| (*g).to_owned()).collect();
    user.enabled = enabled;
    user
}

fn groups_plan() -> Plan {
    let m = manifest(GROUPS);
    let synced = |name: &str| [("email", format!("{name}@example.com")), ("email_verified", "true".to_owned())];
    let attrs = |name: &str| synced(name).map(|(k, v)| (k, v));
    let user = |name: &str| {
        let a = attrs(name);
        remote(name, &[(a[0].0, a[0].1.as_str()), (a[1].0, a[1].1.as_str())])
    };
    let mut p = pool(vec![
        member(user("alice"), &["staff", "legacy"], true),
        member(user("bob"), &[], true),
        member(user("carol"), &[], false),
        member(user("dave"), &["legacy"], true),
    ]);
    p.groups.insert("staff".into(), crate::pool::RemoteGroup::default());
    p.groups.insert("legacy".into(), crate::pool::RemoteGroup { precedence: Some(3), ..Default::default() });
    p.memberships = Some(crate::pool::MembershipStrategy::PerUser);
    diff(&m, &p).unwrap()
}

#[test]
fn groups_and_enabled_state_sort_users_into_to_change() {
    let plan = groups_plan();
    assert_eq!(plan.groups_to_create.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["admins"]);
    assert_eq!(plan.groups_to_create[0].precedence, Some(1));
    let changes: Vec<(&str, Vec<String>, Option<bool>)> =
        plan.to_change.iter().map(|u| (u.username.as_str(), u.add_groups.clone(), u.set_enabled)).collect();
    assert_eq!(
        changes,
        [("alice", vec!["admins".to_owned()], None), ("bob", vec![], Some(false)), ("carol", vec![], Some(true)),]
    );
    assert_eq!(plan.in_sync.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["dave"]);
    let erin = &plan.to_import[0];
    assert_eq!((erin.username.as_str(), erin.enabled, erin.groups.clone()), ("erin", false, vec!["staff".to_owned()]));
    // alice is in `legacy`, which the manifest mentions (dave's) but does not declare for her.
    assert_eq!(plan.unmanaged_memberships, 1);
    assert_eq!((plan.new_user_changes(), plan.existing_user_changes()), (2, 3));
    assert!(plan.has_changes());
}

#[test]
fn a_user_naming_a_group_neither_declared_nor_in_the_pool_is_a_problem() {
    let m =
        manifest("groups:\n  staff:\nusers:\n  - username: a\n    email: a@example.com\n    groups: [staf, ghosts]\n");
    let problems = diff(&m, &pool(vec![])).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "users[0].groups (`a`): group `ghosts` is neither declared under `groups:` nor in pool `eu-west-1_Test1`",
            "users[0].groups (`a`): group `staf` is neither declared under `groups:` nor in pool `eu-west-1_Test1`",
        ]
    );
    assert!(problems.iter().any(|p| p.help.as_deref().is_some_and(|h| h.starts_with("did you mean `staff`?"))));
}

#[test]
fn existing_groups_are_never_updated_but_their_drift_is_shown() {
    let m = manifest("groups:\n  staff:\n    description: Staff\n    precedence: 2\nusers: []\n");
    let mut p = pool(vec![]);
    p.groups.insert("staff".into(), crate::pool::RemoteGroup { precedence: Some(2), ..Default::default() });
    let plan = diff(&m, &p).unwrap();
    assert!(plan.groups_to_create.is_empty() && !plan.has_changes());
    assert_eq!(
        plan.group_drift,
        [GroupDrift {
            name: "staff".into(),
            changes: vec![AttributeDrift { attribute: "description".into(), pool: None, manifest: "Staff".into() }]
        }]
    );
}

#[test]
fn changes_address_the_pool_username_in_email_sign_in_pools() {
    let m = manifest("users:\n  - username: alice\n    email: alice@example.com\n    enabled: false\n");
    let mut p = pool(vec![remote("0b5e-uuid", &[("email", "alice@example.com"), ("email_verified", "true")])]);
    p.username_attributes = vec!["email".into()];
    let plan = diff(&m, &p).unwrap();
    assert_eq!(plan.to_change[0].pool_username, "0b5e-uuid");
    assert_eq!(plan.to_change[0].set_enabled, Some(false));
}

#[test]
fn text_and_markdown_show_groups_and_changes() {
    let plan = groups_plan();
    insta::assert_snapshot!(text(&plan, RenderOptions { show_pii: false, paint: Paint::new(false) }), @r#"
    cognito-sync plan for pool `eu-west-1_Test1` (`test`) in `eu-west-1`
    case-sensitive usernames, sign-in by username, MFA OFF, auto-verified: email; about 4 users in the pool (read by listing them all)

    1 group to create:
      + group admins (precedence 1)

    1 user to import:
      + erin
          email = "e***@example.com"
          email_verified = "true"
          cognito:mfa_enabled = false
          enabled = false (disabled right after its import)
          groups = [staff]

    3 users to change:
      ~ alice
          + group admins
      ~ bob
          enabled = true -> false
      ~ carol
          enabled = false -> true

    Plan: 1 to import, 3 to change, 1 in sync, 0 drifted (not updated), 0 unmanaged (untouched), 1 group to create, 1 unmanaged membership (untouched)
    cognito-sync creates users, creates declared groups, adds declared memberships and sets the declared enabled state: attributes of existing users and existing groups are never updated, and nothing is ever deleted, whatever the drift.
    "#);
    let md = markdown(&plan, false);
    assert!(
        md.contains(
            "#### 3 users to change\n\n```diff\n~ alice\n+     group admins\n~ bob\n!     enabled = true -> false\n"
        ),
        "{md}"
    );
    assert!(md.contains("#### 1 group to create\n\n```diff\n+ group admins (precedence 1)\n"), "{md}");
}

// See: #10. A pool attribute named with a comma made a header Cognito cannot parse; the job
// failed with a message that blamed the role.
#[test]
fn a_pool_attribute_the_csv_header_cannot_carry_is_refused_by_name() {
    let m = manifest("users:\n  - username: new\n    email: new@example.com\n");
    let mut p = pool(Vec::new());
    p.csv_header.insert(0, "custom:a,b".to_owned());
    p.csv_header.insert(0, "custom:x\\y".to_owned());
    let problems = diff(&m, &p).unwrap_err();
    assert_eq!(
        messages(&problems),
        [
            "pool.id: pool `eu-west-1_Test1` has the attribute `custom:x\\y`, which Cognito's CSV header cannot carry: a backslash is the dialect's escape character, with no documented way to write it as itself",
            "pool.id: pool `eu-west-1_Test1` has the attribute `custom:a,b`, which Cognito's CSV header cannot carry: a comma would split the header cell, and Cognito documents its `\\,` escape for values only",
        ]
    );
    assert!(problems[0].help.as_deref().unwrap().contains("import them into a pool without `custom:x\\y`"));
    // Nothing to import: nothing to refuse.
    let m = manifest("users: []\n");
    assert!(diff(&m, &p).is_ok());
}

#[test]
fn a_saved_plan_read_back_covers_what_the_fresh_plan_covered() {
    // A plan with users to import, groups to create and users to change: every part of
    // the digest input is non-empty.
    let plan = groups_plan();
    let json = to_json(&report(&plan, true));
    let saved = saved::SavedPlan::parse(&json, std::path::Path::new("plan.json")).expect("reads back");
    let fresh = plan.digest_input(plan.rows());
    assert!(!fresh.users.is_empty() && !fresh.rows.is_empty() && fresh.post_import.len() > 2, "{fresh:?}");
    assert_eq!(saved.digest_input(), fresh);
    assert_eq!(saved.plan_digest, saved::digest(&fresh));
}
