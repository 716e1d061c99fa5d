//! The local emulator (moto + Cognito import jobs, `tests/emulator/`), started once per
//! test run and stopped when the test process exits: it watches its piped stdin, which
//! closes with this process.
//!
//! Tests never skip when it cannot start: they fail and say why.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub struct Emulator {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    _child: Mutex<Child>,
}

/// Regions handed out to tests in turn: Cognito allows one active import job per account
/// and region, so tests that run jobs in parallel each take their own region.
const REGIONS: [&str; 16] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ca-central-1",
    "sa-east-1",
];

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared emulator, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(start)
}

fn start() -> Emulator {
    let script = repo_root().join("tests/emulator/emulator");
    let mut child = Command::new("bash")
        .arg(&script)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the emulator ({}): {e}", script.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    // The first start installs the pinned venv under target/, which takes a minute.
    BufReader::new(stdout).read_line(&mut line).expect("read the emulator's ready line");
    let endpoint = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the emulator did not start; it said {line:?} (see its stderr above)"))
        .to_owned();
    Emulator { endpoint, _child: Mutex::new(child) }
}

/// One test's identity in the emulator: its own access key (faults and request counts are
/// scoped by it) and its own region.
pub struct TestAccount {
    pub access_key: String,
    pub region: &'static str,
}

impl Emulator {
    pub fn account(&self, name: &str) -> TestAccount {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let access_key: String =
            format!("AKIA{}{n}", name.to_uppercase()).chars().filter(char::is_ascii_alphanumeric).take(20).collect();
        TestAccount { access_key, region: REGIONS[n % REGIONS.len()] }
    }

    /// The venv's python, for `seed.py`.
    pub fn python(&self) -> PathBuf {
        repo_root().join("target/emulator-venv/bin/python")
    }

    /// Creates a pool with `users` existing users (`user000000`...); returns its id.
    pub fn seed_pool(&self, account: &TestAccount, name: &str, users: usize, extra: &[&str]) -> String {
        let out = Command::new(self.python())
            .arg(repo_root().join("tests/emulator/seed.py"))
            .args(["--endpoint", &self.endpoint, "--region", account.region, "--name", name])
            .args(["--users", &users.to_string(), "--access-key", &account.access_key])
            .args(extra)
            .output()
            .expect("run seed.py");
        assert!(out.status.success(), "seed.py failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    /// Requests per operation made with this account's key.
    pub fn counts(&self, account: &TestAccount) -> BTreeMap<String, u64> {
        let body = self.http("GET", &format!("/_emulator/counts?access_key={}", account.access_key), "");
        serde_json::from_str(&body).expect("counts are JSON")
    }

    pub fn reset_counts(&self, account: &TestAccount) {
        self.http("DELETE", &format!("/_emulator/counts?access_key={}", account.access_key), "");
    }

    /// Sets this account's faults (see tests/emulator/README.md).
    pub fn set_faults(&self, account: &TestAccount, faults: serde_json::Value) {
        self.http("POST", &format!("/_emulator/faults?access_key={}", account.access_key), &faults.to_string());
    }

    /// A minimal HTTP/1.0 client for the control API: no extra dependency for a few calls.
    pub fn http(&self, method: &str, path: &str, body: &str) -> String {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the emulator");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        assert!(head.starts_with("HTTP/1.0 2") || head.starts_with("HTTP/1.1 2"), "{method} {path}: {head}\n{body}");
        body.to_owned()
    }
}

impl TestAccount {
    /// The environment that points the binary at the emulator with this account.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", emulator().endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", "emulator-secret".to_owned()),
            ("AWS_REGION", self.region.to_owned()),
            ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// The binary, pointed at the emulator with this account's credentials and region.
    pub fn cognito_sync(&self) -> assert_cmd::Command {
        let mut cmd = super::cognito_sync();
        cmd.envs(self.env());
        cmd
    }

    /// The same, as a plain process to spawn and watch while it runs.
    pub fn spawn(&self, dir: &Path, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_cognito-sync"))
            .current_dir(dir)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cognito-sync")
    }

    /// Creates users `PREFIX000000`... directly in the pool, as another admin would.
    pub fn create_users(&self, pool_id: &str, prefix: &str, count: usize) {
        let body = serde_json::json!({"pool_id": pool_id, "region": self.region, "count": count, "prefix": prefix});
        emulator().http("POST", "/_emulator/seed-users", &body.to_string());
    }

    pub fn count(&self, operation: &str) -> u64 {
        emulator().counts(self).get(operation).copied().unwrap_or(0)
    }
}
