//! `jobs` end to end: a job that succeeded (with a failed row), one that failed as a
//! whole, and one that was stopped, listed and shown against the emulator.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::emulator::{TestAccount, emulator};
use crate::common::{Run, Workspace};

struct Setup {
    account: TestAccount,
    pool: String,
    ws: Workspace,
}

impl Setup {
    fn new(name: &str) -> Self {
        let emulator = emulator();
        let account = emulator.account(name);
        let pool = emulator.seed_pool(&account, name, 1, &[]);
        Setup { account, pool, ws: Workspace::new() }
    }

    fn manifest(&self, users: &[&str]) -> PathBuf {
        let mut text = format!(
            "version: 1\npool:\n  id: {}\nimport:\n  role: cs-{}\ndefaults:\n  email_verified: true\nusers:\n",
            self.pool,
            self.account.access_key.to_lowercase()
        );
        for user in users {
            text.push_str(&format!("  - username: {user}\n    email: {user}@example.com\n"));
        }
        self.ws.write("users.yaml", &text)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.account.cognito_sync().current_dir(self.ws.path()).args(args).output().unwrap().into()
    }

    fn jobs_json(&self, args: &[&str]) -> Value {
        let run = self.run(&[&["jobs", "--format", "json"], args].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    }

    /// Stops a running job with boto3 from the emulator's venv: cognito-sync has no `stop`.
    fn stop(&self, job_id: &str) {
        let script = "import boto3, sys; boto3.client('cognito-idp', endpoint_url=sys.argv[1], region_name=sys.argv[2], \
aws_access_key_id=sys.argv[3], aws_secret_access_key='x').stop_user_import_job(UserPoolId=sys.argv[4], JobId=sys.argv[5])";
        let out = Command::new(emulator().python())
            .args([
                "-c",
                script,
                &emulator().endpoint,
                self.account.region,
                &self.account.access_key,
                &self.pool,
                job_id,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn succeeded_failed_and_stopped_jobs_are_listed_and_shown() {
    let setup = Setup::new("jobsmix");
    setup.manifest(&["alice", "carol"]);
    let no_jobs = setup.run(&["jobs"]);
    assert_eq!(no_jobs.code, 0, "{}", no_jobs.stderr);
    assert_eq!(no_jobs.stdout, format!("no import jobs in pool `{}`\n", setup.pool));

    // 1. Succeeded, with one row that failed inside Cognito.
    emulator().set_faults(&setup.account, json!({"fail_rows": ["carol"]}));
    let apply = setup.run(&["apply", "--yes"]);
    assert_eq!(apply.code, 1, "carol failed\n{}", apply.stderr);
    // 2. Failed as a whole.
    setup.manifest(&["alice", "carol", "dave"]);
    emulator().set_faults(&setup.account, json!({"fail_job": "The CSV file could not be read."}));
    let apply = setup.run(&["apply", "--yes"]);
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    // 3. Stopped while pending.
    setup.manifest(&["alice", "carol", "dave", "erin"]);
    emulator().set_faults(&setup.account, json!({"slow_start_seconds": 5}));
    let apply = setup.run(&["apply", "--yes", "--no-wait"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let stopped_id = apply.stdout.lines().last().unwrap().to_owned();
    setup.stop(&stopped_id);

    let deadline = Instant::now() + Duration::from_secs(30);
    let list = loop {
        let list = setup.jobs_json(&[]);
        if list["jobs"][0]["status"] == "Stopped" || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(list["schema_version"], 1);
    assert_eq!(list["pool_id"], setup.pool.as_str());
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{list:#}");
    let statuses: Vec<&str> = jobs.iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["Stopped", "Failed", "Succeeded"], "newest first");
    assert!(jobs.iter().all(|j| j["ours"] == true && j["name"].as_str().unwrap().starts_with("cognito-sync-")));
    assert_eq!(jobs[0]["id"], stopped_id.as_str());
    assert_eq!((jobs[2]["imported"].as_u64(), jobs[2]["failed"].as_u64()), (Some(1), Some(1)));
    let created = jobs[2]["created"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T', "RFC 3339 UTC: {created}");

    let text = setup.run(&["jobs"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("import jobs of pool `{}`, newest first", setup.pool)), "{}", text.stdout);
    assert!(
        lines[2].starts_with("* ") && lines[2].contains("Stopped") && lines[2].contains(&stopped_id),
        "{}",
        text.stdout
    );
    assert!(lines[4].contains("Succeeded") && lines[4].contains("  1  "), "{}", text.stdout);
    let limited = setup.jobs_json(&["--limit", "1"]);
    assert_eq!((limited["jobs"].as_array().unwrap().len(), limited["total"].as_u64()), (1, Some(3)));

    // See: #15. The manifest as the first argument, like the other commands, with a job id
    // after it; the list's hints run when pasted.
    let named = setup.run(&["jobs", "users.yaml", "--limit", "1"]);
    assert_eq!(named.code, 0, "{}", named.stderr);
    let all = crate::common::hint_after(&named.stdout, "(2 older jobs not shown: ");
    assert_eq!(all, "cognito-sync jobs users.yaml --limit 0");
    assert_eq!(crate::common::paste(setup.ws.path(), &all, setup.account.env()).stdout, text.stdout);
    let one = crate::common::hint_after(&named.stdout, "failed and skipped rows: ");
    assert_eq!(one, format!("cognito-sync jobs users.yaml {stopped_id}"));
    let shown = crate::common::paste(setup.ws.path(), &one, setup.account.env());
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.starts_with(&format!("import job `{stopped_id}`")), "{}", shown.stdout);

    // The succeeded job: its failed row from the log, by line number.
    let succeeded_id = jobs[2]["id"].as_str().unwrap();
    let detail = setup.jobs_json(&[succeeded_id]);
    assert_eq!(detail["job"]["status"], "Succeeded");
    assert_eq!(detail["log_group"], format!("/aws/cognito/userpools/{}/jobsmix", setup.pool).as_str());
    assert_eq!(
        detail["rows"],
        json!([{"line_number": 2, "outcome": "failed", "reason": "An internal error occurred while importing this user."}])
    );
    assert_eq!(detail["succeeded_rows"], 1);
    let text = setup.run(&["jobs", succeeded_id]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("  ! line 2 failed: An internal error occurred while importing this user.\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("`apply`'s own report names the users"), "{}", text.stdout);
    // The emulator is not AWS: no console link that would show nothing (see: #15).
    assert!(!text.stdout.contains("https://"), "console link: {}", text.stdout);
    assert_eq!(setup.jobs_json(&[succeeded_id])["console_url"], Value::Null);

    // The failed job: Cognito's completion message.
    let failed = setup.run(&["jobs", jobs[1]["id"].as_str().unwrap()]);
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    assert!(failed.stdout.contains("  status:     Failed\n"), "{}", failed.stdout);
    assert!(failed.stdout.contains("Cognito says: The CSV file could not be read."), "{}", failed.stdout);

    // The stopped job.
    let stopped = setup.jobs_json(&[&stopped_id]);
    assert_eq!(stopped["job"]["status"], "Stopped");
    assert!(stopped["job"]["completion_message"].is_string(), "{stopped:#}");

    // An unknown job id: a clear error.
    let unknown = setup.run(&["jobs", "import-nope"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("has no import job `import-nope`"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("cognito-sync jobs"), "{}", unknown.stderr);
}
