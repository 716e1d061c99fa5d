//! Password-hash migration (SPEC §9) end to end: the real binary, the emulator, hashes made
//! by standard libraries (the emulator venv's bcrypt, argon2-cffi and hashlib) from known
//! passwords. Every captured output is searched for hash material.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::common::emulator::{TestAccount, emulator, repo_root};
use crate::common::{Run, Workspace, cognito_sync};

const ALGORITHMS: [&str; 4] = ["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256"];

/// A hash of `password` made by a standard library (tests/emulator/hash_tool.py).
fn make_hash(algorithm: &str, password: &str) -> String {
    let out = Command::new(emulator().python())
        .arg(repo_root().join("tests/emulator/hash_tool.py"))
        .args(["make", algorithm, password])
        .output()
        .expect("run hash_tool.py");
    assert!(out.status.success(), "hash_tool.py: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A pool with one existing user (`user000000`), a workspace, and every output captured.
struct Migration {
    account: TestAccount,
    pool: String,
    ws: Workspace,
    role: String,
    /// Every hash written to a hash file, to search the outputs for.
    secrets: Vec<String>,
    /// Every stdout and stderr captured so far.
    outputs: Vec<String>,
}

impl Migration {
    fn new(name: &str) -> Self {
        let account = emulator().account(name);
        let pool = emulator().seed_pool(&account, name, 1, &[]);
        let role = format!("cs-{}", account.access_key.to_lowercase());
        Migration { account, pool, ws: Workspace::new(), role, secrets: Vec::new(), outputs: Vec::new() }
    }

    /// `users.yaml` with `user000000` and these new users.
    fn manifest(&self, users: &[&str]) -> PathBuf {
        let mut text = format!(
            "version: 1\npool:\n  id: {}\nimport:\n  role: {}\ndefaults:\n  email_verified: true\nusers:\n  - username: user000000\n    email: user000000@example.com\n",
            self.pool, self.role
        );
        for user in users {
            text.push_str(&format!("  - username: {user}\n    email: {user}@example.com\n    name: {user}, Jr.\n"));
        }
        self.ws.write("users.yaml", &text)
    }

    /// The hash file (mode 0600) with these (username, algorithm, hash) lines.
    fn hash_file(&mut self, lines: &[(&str, &str, &str)]) -> PathBuf {
        let mut text = String::new();
        for (username, algorithm, hash) in lines {
            text.push_str(&json!({"username": username, "algorithm": algorithm, "hash": hash}).to_string());
            text.push_str("\n\n");
            self.secrets.push((*hash).to_owned());
        }
        let path = self.ws.write("hashes.jsonl", &text);
        set_mode(&path, 0o600);
        path
    }

    fn run(&mut self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    fn run_with(&mut self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let run: Run = self
            .account
            .cognito_sync()
            .current_dir(self.ws.path())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
            .into();
        self.outputs.push(run.stdout.clone());
        self.outputs.push(run.stderr.clone());
        run
    }

    fn sign_in(&self, username: &str, password: &str) -> String {
        let out = Command::new(emulator().python())
            .arg(repo_root().join("tests/emulator/hash_tool.py"))
            .args(["sign-in", "--endpoint", &emulator().endpoint, "--region", self.account.region])
            .args(["--access-key", &self.account.access_key, "--pool", &self.pool, username, password])
            .output()
            .expect("run hash_tool.py");
        assert!(out.status.success(), "hash_tool.py: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// No captured output holds a hash, or any long piece of one.
    fn assert_no_hash_in_outputs(&self) {
        assert!(!self.secrets.is_empty());
        for output in &self.outputs {
            for secret in &self.secrets {
                // The salt-and-hash tail of every hash, in pieces: a fragment is a leak too.
                let tail = &secret[secret.len() - 20..];
                assert!(!output.contains(tail), "a hash leaked into the output:\n{output}");
                let body = secret.rsplit('$').next().unwrap();
                assert!(!output.contains(&body[..12.min(body.len())]), "a hash leaked into the output:\n{output}");
            }
        }
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn plan_says_who_brings_a_hash_and_the_csv_has_one_file_per_algorithm() {
    let mut m = Migration::new("hashplan");
    m.manifest(&["alice", "bob", "carol", "dave"]);
    let bcrypt = make_hash("BCRYPT", "alice's old password");
    let argon = make_hash("ARGON2ID", "bob's old password");
    let unused = make_hash("SCRYPT", "never used");
    m.hash_file(&[("alice", "BCRYPT", &bcrypt), ("bob", "ARGON2ID", &argon), ("user000000", "SCRYPT", &unused)]);

    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl", "--csv", "import.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("4 to import (2 with a password hash, 2 to reset)"), "{}", run.stdout);
    assert!(run.stdout.contains("password hash: BCRYPT (imported CONFIRMED"), "{}", run.stdout);
    assert!(run.stdout.contains("password hash: none (imported RESET_REQUIRED"), "{}", run.stdout);
    assert!(run.stdout.contains("1 password hash in `hashes.jsonl` is for one of the users already in the pool"));
    // One job per algorithm, in algorithm order; users without a hash ride in the first.
    let first = std::fs::read_to_string(m.ws.path().join("import.csv")).unwrap();
    let second = std::fs::read_to_string(m.ws.path().join("import-2.csv")).unwrap();
    assert!(first.lines().next().unwrap().ends_with(",cognito:username,password_hash"), "{first}");
    let column = first.lines().next().unwrap().split(',').position(|c| c == "cognito:username").unwrap();
    let users = |csv: &str| {
        csv.lines()
            .skip(1)
            .map(|l| l.replace("\\,", ";").split(',').nth(column).unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(users(&first), ["alice", "carol", "dave"]);
    assert_eq!(users(&second), ["bob"]);
    assert!(first.contains(&format!(",alice,{bcrypt}\n")), "{first}");
    // PHC commas are escaped in Cognito's dialect.
    assert!(second.contains(&argon.replace(',', "\\,")), "{second}");
    assert_eq!(mode(&m.ws.path().join("import.csv")), 0o600);
    assert_eq!(mode(&m.ws.path().join("import-2.csv")), 0o600);

    // JSON: a boolean per user, the file's digest, never a hash (the rows have none).
    let run =
        m.run_with(&["plan", "--format", "json", "--show-pii"], &[("COGNITO_SYNC_PASSWORD_HASHES", "hashes.jsonl")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let flags: Vec<(String, bool)> = report["to_import"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap().to_owned(), u["password_hash"].as_bool().unwrap()))
        .collect();
    assert_eq!(flags, [("alice".into(), true), ("bob".into(), true), ("carol".into(), false), ("dave".into(), false)]);
    assert_eq!(report["password_hashes"]["per_algorithm"], json!({"BCRYPT": 1, "ARGON2ID": 1}));
    assert_eq!(report["password_hashes"]["without_hash"], 2);
    assert_eq!(report["password_hashes"]["unused"], 1);
    assert_eq!(report["password_hashes"]["digest"].as_str().unwrap().len(), 64);
    assert!(!report["rows"][0].as_str().unwrap().contains('$'));

    // A saved plan holds the digest, not the hashes.
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl", "-o", "plan.json", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("password hash: ARGON2ID"), "{}", run.stdout);
    let saved = std::fs::read_to_string(m.ws.path().join("plan.json")).unwrap();
    m.outputs.push(saved);
    m.assert_no_hash_in_outputs();
}

/// The migration a new user would try: users with hashes of all four algorithms and users
/// without, one job per algorithm, then sign-ins with the old passwords.
#[test]
fn apply_migrates_every_algorithm_and_users_sign_in_with_their_old_passwords() {
    let mut m = Migration::new("hashapply");
    let users = ["u_bcrypt", "u_scrypt", "u_argon", "u_pbkdf2", "u_plain", "u_bcrypt2"];
    m.manifest(&users);
    let password = |user: &str| format!("old password of {user}, with a comma");
    let hashes: Vec<(String, &str, String)> = users
        .iter()
        .zip(["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256", "", "BCRYPT"])
        .filter(|(_, algorithm)| !algorithm.is_empty())
        .map(|(user, algorithm)| ((*user).to_owned(), algorithm, make_hash(algorithm, &password(user))))
        .collect();
    let lines: Vec<(&str, &str, &str)> = hashes.iter().map(|(u, a, h)| (u.as_str(), *a, h.as_str())).collect();
    m.hash_file(&lines);

    let run = m.run(&["apply", "--yes", "--password-hashes", "hashes.jsonl", "-v"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // One job per algorithm, one after another.
    assert_eq!(m.account.count("CreateUserImportJob"), 4, "{}", run.stderr);
    for algorithm in ALGORITHMS {
        assert!(run.stdout.contains(&format!("  password hashes: {algorithm}\n")), "{}", run.stdout);
    }
    assert!(
        run.stdout.contains("+ 5 users imported with a password hash, status CONFIRMED: sign in with their old password now: `u_bcrypt`, `u_scrypt`, `u_argon`, `u_pbkdf2`, `u_bcrypt2`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("next: 1 user without a password hash, status RESET_REQUIRED: `u_plain`; each must reset"),
        "{}",
        run.stdout
    );

    for user in ["u_bcrypt", "u_scrypt", "u_argon", "u_pbkdf2", "u_bcrypt2"] {
        assert_eq!(m.sign_in(user, &password(user)), "ok", "{user} signs in with the old password");
        assert_eq!(m.sign_in(user, "a wrong password"), "denied NotAuthorizedException", "{user}");
    }
    assert_eq!(m.sign_in("u_plain", &password("u_plain")), "denied NotAuthorizedException");

    // Nothing left to do; the JSON report names the algorithm per job.
    let run = m.run(&["apply", "--yes", "--password-hashes", "hashes.jsonl", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("nothing to import"), "{}", run.stderr);
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_saved_plan_records_the_hash_file_digest_and_refuses_a_changed_file() {
    let mut m = Migration::new("hashsaved");
    m.manifest(&["alice", "bob"]);
    let hash = make_hash("ARGON2ID", "alice's password");
    m.hash_file(&[("alice", "ARGON2ID", &hash)]);
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl", "-o", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved = std::fs::read_to_string(m.ws.path().join("plan.json")).unwrap();
    assert!(saved.contains("\"password_hashes\""), "{saved}");
    m.outputs.push(saved);

    // A changed file (another hash for alice) is refused before any request.
    let other = make_hash("ARGON2ID", "another password");
    m.hash_file(&[("alice", "ARGON2ID", &other)]);
    emulator().reset_counts(&m.account);
    let run = m.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the password-hash file `hashes.jsonl` changed since the plan was made"),
        "{}",
        run.stderr
    );
    assert_eq!(emulator().counts(&m.account).values().sum::<u64>(), 0, "nothing sent");
    // A plan made without hashes takes no hash file.
    let run = m.run(&["plan", "-o", "plain.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = m.run(&["apply", "plain.json", "--yes", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the saved plan was made without password hashes"), "{}", run.stderr);

    // The original file: the saved plan applies, alice CONFIRMED, bob must reset.
    m.hash_file(&[("alice", "ARGON2ID", &hash)]);
    let run = m.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "+ 1 user imported with a password hash, status CONFIRMED: signs in with their old password now: `alice`"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("status RESET_REQUIRED: `bob`"), "{}", run.stdout);
    assert_eq!(m.sign_in("alice", "alice's password"), "ok");
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_pool_whose_header_lists_password_hash_works_with_and_without_hashes() {
    // The alternative answer to an undocumented question: GetCSVHeader lists `password_hash`.
    let mut m = Migration::new("hashheader");
    emulator().set_faults(&m.account, json!({"csv_header_lists_password_hash": "listed"}));
    m.manifest(&["alice", "bob"]);
    let hash = make_hash("SCRYPT", "alice's password");
    m.hash_file(&[("alice", "SCRYPT", &hash)]);
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl", "--csv", "hash.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let csv = std::fs::read_to_string(m.ws.path().join("hash.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap().matches("password_hash").count(), 1, "{csv}");
    let run = m.run(&["apply", "--yes", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(m.sign_in("alice", "alice's password"), "ok");
    // A plain import into that pool: the column is written blank.
    m.manifest(&["alice", "bob", "carol"]);
    let run = m.run(&["apply", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 imported"), "{}", run.stdout);
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_hash_cognito_refuses_is_reported_as_that_users_failure() {
    // The alternative answer on accepted encodings: only `$2b$` bcrypt.
    let mut m = Migration::new("hashstrict");
    emulator().set_faults(&m.account, json!({"hash_forms": "strict"}));
    m.manifest(&["alice", "bob"]);
    let two_a = make_hash("BCRYPT", "pw").replacen("$2b$", "$2a$", 1);
    let two_b = make_hash("BCRYPT", "pw");
    m.hash_file(&[("alice", "BCRYPT", &two_a), ("bob", "BCRYPT", &two_b)]);
    let run = m.run(&["apply", "--yes", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("alice failed: The password_hash value is not a valid BCRYPT hash."), "{}", run.stdout);
    assert!(run.stdout.contains("status CONFIRMED: signs in with their old password now: `bob`"), "{}", run.stdout);
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_bad_hash_file_is_located_by_line_and_nothing_is_sent() {
    let mut m = Migration::new("hashbad");
    m.manifest(&["alice", "bob"]);
    let bcrypt = make_hash("BCRYPT", "pw");
    let argon = make_hash("ARGON2ID", "pw");
    m.hash_file(&[
        ("alice", "BCRYPT", &argon),
        ("mallory", "BCRYPT", &bcrypt),
        ("bob", "SHA1", &bcrypt),
        ("alice", "ARGON2ID", &bcrypt),
    ]);
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 1);
    for expected in [
        "5 problems in the password-hash file `hashes.jsonl`",
        "`hashes.jsonl` line 1: the hash of user `alice` looks like ARGON2ID, not BCRYPT",
        "`hashes.jsonl` line 3: user `mallory` is not declared in the manifest",
        "`hashes.jsonl` line 5: unknown algorithm `SHA1`",
        "`hashes.jsonl` line 7: user `alice` has a hash on line 1 already",
        "`hashes.jsonl` line 7: the hash of user `alice` looks like BCRYPT, not ARGON2ID",
        "help: accepted for ARGON2ID: PHC string `$argon2id$v=19$m=M,t=T,p=P$salt$hash`",
    ] {
        assert!(run.stderr.contains(expected), "missing {expected:?} in:\n{}", run.stderr);
    }
    assert_eq!(m.account.count("DescribeUserPool") + m.account.count("ListUsers"), 0, "nothing sent");
    // apply refuses the same file before any request.
    emulator().reset_counts(&m.account);
    let run = m.run(&["apply", "--yes", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("5 problems in the password-hash file"), "{}", run.stderr);
    assert_eq!(emulator().counts(&m.account).values().sum::<u64>(), 0, "nothing sent");
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_hash_file_others_can_read_is_warned_about() {
    let mut m = Migration::new("hashmode");
    m.manifest(&["alice"]);
    let hash = make_hash("PBKDF2_SHA256", "pw");
    let path = m.hash_file(&[("alice", "PBKDF2_SHA256", &hash)]);
    set_mode(&path, 0o644);
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "warning: the password-hash file `hashes.jsonl` is readable by its group and others (mode 0644): password hashes are secrets; `chmod 600 hashes.jsonl`"
        ),
        "{}",
        run.stderr
    );
    set_mode(&path, 0o600);
    let run = m.run(&["plan", "--password-hashes", "hashes.jsonl", "-q"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    m.assert_no_hash_in_outputs();
}

#[test]
fn a_password_in_the_manifest_is_refused_without_showing_it() {
    let ws = Workspace::new();
    ws.write(
        "users.yaml",
        "version: 1\npool:\n  id: us-east-1_Abc\nusers:\n  - username: alice\n    email: a@example.com\n    password_hash: $2b$12$secretsecretsecretsecretsecretsecretsecretsecretsecretse\n  - username: bob\n    email: b@example.com\n    password: hunter2-secret\n",
    );
    let run: Run = cognito_sync().current_dir(ws.path()).args(["validate"]).output().unwrap().into();
    assert_eq!(run.code, 1);
    for expected in [
        "users[0].password_hash (`alice`): `password_hash` does not belong in the manifest: passwords and their hashes are secrets",
        "users[1].password (`bob`): `password` does not belong in the manifest",
        "`--password-hashes FILE` (or `COGNITO_SYNC_PASSWORD_HASHES`)",
    ] {
        assert!(run.stderr.contains(expected), "missing {expected:?} in:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("secretsecret") && !run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[test]
fn the_option_is_documented_on_plan_and_apply() {
    for command in ["plan", "apply"] {
        let run: Run = cognito_sync().args([command, "--help"]).output().unwrap().into();
        assert!(run.stdout.contains("--password-hashes <FILE>"), "{}", run.stdout);
        assert!(run.stdout.contains("COGNITO_SYNC_PASSWORD_HASHES"), "{}", run.stdout);
    }
}
