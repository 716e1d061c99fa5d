//! Hostile and very large manifests (issue #10): every one ends with exit 1, a located
//! message, bounded stderr, no AWS request and no panic.

use crate::common::{Run, Workspace, cognito_sync};

const HEAD: &str = "version: 1\npool:\n  id: us-east-1_AbC123\nusers:\n";

/// Runs `command` (`validate` or `plan`) on `text` with an endpoint that refuses every
/// connection, and checks the contract: exit 1, nothing on stdout, no attempt to reach AWS.
/// Returns stderr.
fn rejected(command: &str, text: &str) -> String {
    let ws = Workspace::new();
    let path = ws.write("users.yaml", text);
    let run: Run = cognito_sync()
        .current_dir(ws.path())
        .arg(command)
        .arg(&path)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1, "stderr: {}", &run.stderr[..run.stderr.len().min(4000)]);
    assert_eq!(run.stdout, "");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains("127.0.0.1:9"), "an AWS request was attempted:\n{}", run.stderr);
    run.stderr
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(haystack.contains(needle), "missing {needle:?} in:\n{}", &haystack[..haystack.len().min(6000)]);
    }
}

// See: #10. Each snippet used to be placed by scanning the text from its start: 10k bad
// users took 33 s. Now the first problems get a snippet and the rest one line each.
#[test]
fn many_bad_users_first_in_detail_then_one_line_each_then_the_count() {
    let mut text = String::from(HEAD);
    for i in 0..3000 {
        text.push_str(&format!("  - username: user{i}\n    email: user{i}@bad\n"));
    }
    let err = rejected("plan", &text);
    assert_eq!(err.matches("╭─[").count(), 20, "20 snippets");
    let last = 5 + 2 * 2999 + 1;
    assert_contains(
        &err,
        &[
            "3000 problems in manifest",
            "users.yaml:6:5]",
            &format!(
                "users.yaml:{last}:5 users[2999].email (`user2999`): `user2999@bad` is not a valid email address\n"
            ),
            "users.yaml`: the first 20 with a snippet, the other 2980 one per line\n",
        ],
    );
    assert!(err.len() < 3000 * 200, "{} bytes of stderr", err.len());
    assert!(err.trim_end().ends_with("one per line"), "the count comes last");
}

// See: #10. A 20 MB value printed 94 MB of stderr: the whole line and its underline.
#[test]
fn a_huge_value_shows_a_short_window() {
    let text = format!("{HEAD}  - username: a\n    email: a@example.com\n    nickname: {}\n", "v".repeat(3_000_000));
    let err = rejected("validate", &text);
    assert_contains(&err, &["users[0].nickname (`a`): `nickname` is 3000000 characters long", "users.yaml:7:5]"]);
    assert!(err.len() < 2000, "{} bytes of stderr:\n{err}", err.len());
    // An invalid phone number is quoted in the message: cut in the middle.
    let text = format!("{HEAD}  - username: a\n    phone_number: '+1{}x'\n", "5".repeat(2000));
    let err = rejected("validate", &text);
    assert_contains(&err, &["characters)…", "555x` is not in E.164 form"]);
    assert!(err.len() < 3000, "{} bytes of stderr", err.len());
}

// See: #10. An error past column 65,535 of a one-line JSON manifest panicked in miette.
#[test]
fn an_error_far_along_a_one_line_json_manifest() {
    let users: Vec<String> =
        (0..4000).map(|i| format!("{{\"username\": \"user{i}\", \"email\": \"user{i}@example.com\"}}")).collect();
    let text = format!(
        "{{\"version\": 1, \"pool\": {{\"id\": \"us-east-1_AbC123\"}}, \"users\": [{}], \"import\": {{\"scoped_trust\": \"maybe\"}}}}",
        users.join(", ")
    );
    assert!(text.len() > 100_000);
    let err = rejected("validate", &text);
    let column = text.find("\"maybe\"").unwrap() + 1;
    assert_contains(
        &err,
        &["import.scoped_trust: expected a boolean, found string \"maybe\"", &format!("users.yaml:1:{column}]")],
    );
    assert!(err.len() < 2000, "{} bytes of stderr", err.len());
    // A syntax error there too.
    let text = format!("{}]", &text[..text.len() - 1]);
    let err = rejected("validate", &text);
    assert_contains(&err, &["users.yaml:1:"]);
    assert!(err.len() < 2000, "{} bytes of stderr", err.len());
}

// See: #10. A 20 MB key panicked in miette.
#[test]
fn a_huge_key() {
    let text = format!("{HEAD}  - username: a\n    {}: x\n", "k".repeat(3_000_000));
    let err = rejected("validate", &text);
    assert_contains(&err, &["users.yaml:6:"]);
    assert!(err.len() < 2000, "{} bytes of stderr", err.len());
    let text = format!("{HEAD}  - username: a\n    email: a@example.com\n    custom: {{ {}: x }}\n", "k".repeat(1000));
    let err = rejected("validate", &text);
    assert_contains(&err, &["characters)…", "is not a name Cognito allows for a custom attribute"]);
    assert!(err.len() < 2000, "{} bytes of stderr", err.len());
}

// See: #10. `/dev/zero` as the manifest grew without bound.
#[test]
fn a_manifest_past_the_size_limit_is_refused_before_reading() {
    let ws = Workspace::new();
    let path = ws.path().join("users.yaml");
    // Sparse: the size is checked before anything is read.
    std::fs::File::create(&path).unwrap().set_len(cognito_sync::manifest::load::MAX_MANIFEST_BYTES + 1).unwrap();
    let started = std::time::Instant::now();
    let run: Run = cognito_sync().arg("plan").arg(&path).output().unwrap().into();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_contains(
        &run.stderr,
        &["is 268435457 bytes, over the limit of 256 MiB", "help: cognito-sync reads manifests of up to 256 MiB"],
    );
    // A device is read up to the same bound, then refused.
    let run: Run = cognito_sync().args(["validate", "/dev/zero"]).output().unwrap().into();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_contains(&run.stderr, &["manifest `/dev/zero` is longer, over the limit of 256 MiB\n"]);
}

// See: #10. U+2028, U+2029 and U+FEFF passed validation and went raw into the CSV.
#[test]
fn unicode_separators_are_refused_by_name() {
    let err = rejected(
        "plan",
        &format!("{HEAD}  - username: a\n    email: a@example.com\n    address: \"1 Main St\u{2028}Springfield\"\n"),
    );
    assert_contains(&err, &["`address` contains a Unicode LINE SEPARATOR (U+2028)", "users.yaml:7:5]"]);
}

// See: #15. A bad boolean hid a bad phone number and a bad email, in its own user and,
// under `defaults`, in every user.
#[test]
fn type_errors_do_not_hide_value_errors() {
    let err = rejected(
        "plan",
        "version: 1\npool:\n  id: us-east-1_AbC123\ndefaults:\n  email_verified: maybe\nusers:\n  - username: a\n    email: nope\n    phone_number_verified: 'no'\n    phone_number: '12'\n  - username: b\n    email: b@nope\n",
    );
    assert_contains(
        &err,
        &[
            "5 problems in manifest",
            "defaults.email_verified: expected a boolean, found string \"maybe\"",
            "users.yaml:5:19]",
            "users[0].email (`a`): `nope` is not a valid email address",
            "users.yaml:8:5]",
            "users[0].phone_number_verified (`a`): expected a boolean, found string \"no\"",
            "users.yaml:9:28]",
            "users[0].phone_number (`a`): phone number `12` is not in E.164 form",
            "users.yaml:10:5]",
            "users[1].email (`b`): `b@nope` is not a valid email address",
        ],
    );
}

/// The loader, the validator and the rendering of their problems never panic, on arbitrary
/// bytes and on arbitrary YAML-ish text; what they print is bounded. A brief run here;
/// `PROPTEST_CASES=100000 cargo test --test it hostile::never` for a long one.
mod never_panic {
    use cognito_sync::manifest::{SourceText, parse, validate};
    use proptest::prelude::*;

    fn check(text: &str) {
        let source = SourceText { path: "users.yaml".into(), text: text.into() };
        let error = match parse(&source) {
            Ok(raw) => match validate(&source, raw) {
                Ok(_) => return,
                Err(error) => error,
            },
            Err(error) => error,
        };
        let problems = error.problems().count();
        let mut rendered = cognito_sync::render_report(&error, false, false);
        rendered.push_str(&error.compact_tail());
        assert!(problems > 0);
        assert!(rendered.len() < 4000 + 1500 * problems.min(20) + 800 * problems, "{rendered}");
    }

    /// Pieces of manifests, valid and not, that a generator or a hand might write.
    const PIECES: &[&str] = &[
        "version: 1\n",
        "version: 2\n",
        "pool:\n",
        "  id: us-east-1_AbC123\n",
        "  region: eu-west-1\n",
        "users:\n",
        "  - username: alice\n",
        "  - username: Alice\n",
        "  - ",
        "- ",
        "    email: a@example.com\n",
        "    email: nope\n",
        "    email_verified: maybe\n",
        "    email_verified: true\n",
        "    phone_number: '+15555550100'\n",
        "    phone_number: +1555\n",
        "    custom:\n",
        "      dept: x\n",
        "      'custom:x': 1\n",
        "defaults:\n",
        "  locale: en\n",
        "  email_verified: 1\n",
        "import:\n",
        "  role: 'bad role'\n",
        "  scoped_trust: yes\n",
        "rules:\n",
        "  username_pattern: '['\n",
        "groups:\n",
        "  admins: {}\n",
        "    groups: [admins, '']\n",
        "    enabled: no\n",
        "&a ",
        "*a",
        "<<: *a\n",
        "!tag ",
        "!!binary ",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "{",
        "}",
        "[",
        "]",
        ", ",
        ": ",
        ":",
        "?",
        "|\n",
        ">-\n",
        "'",
        "\"",
        "\\",
        "#",
        "\n",
        "\r\n",
        "\r",
        "  ",
        "    ",
        "\t",
        "~",
        "null",
        "123",
        "-1",
        "0x1F",
        ".inf",
        "1e999",
        "é",
        "\u{2028}",
        "\u{FEFF}",
        "\u{0}",
        "\u{1b}[31m",
        "𝓊",
        "x",
        "username",
        "emial: x\n",
    ];

    fn yamlish() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_yamlish_text(text in yamlish()) {
            check(&text);
        }

        #[test]
        fn never_panics_on_a_manifest_with_yamlish_users(text in yamlish()) {
            check(&format!("version: 1\npool:\n  id: us-east-1_AbC123\nusers:\n  - username: a\n    {text}"));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            check(&String::from_utf8_lossy(&bytes));
        }
    }
}

// See: #10. Against the emulator: a pool attribute named with a comma is refused at plan,
// by name, before any import job is made.
#[test]
fn a_pool_attribute_with_a_comma_is_refused_at_plan() {
    use crate::common::emulator::emulator;
    let account = emulator().account("hostile-header");
    let pool_id = emulator().seed_pool(&account, "hostile-header", 1, &["--custom-attr", "a,b"]);
    let ws = Workspace::new();
    let path = ws.write(
        "users.yaml",
        &format!(
            "version: 1\npool:\n  id: {pool_id}\ndefaults:\n  email_verified: true\nusers:\n  - username: new\n    email: new@example.com\n"
        ),
    );
    let run: Run = account.cognito_sync().arg("apply").arg(&path).arg("--yes").output().unwrap().into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_contains(&run.stderr, &["has the attribute `custom:a,b`, which Cognito's CSV header cannot carry"]);
    let counts = emulator().counts(&account);
    assert_eq!(counts.get("CreateUserImportJob").copied().unwrap_or(0), 0, "{counts:?}");
}
