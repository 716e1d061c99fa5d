//! Cognito user import jobs: the pure part. Job names, statuses, which of several jobs of one
//! name counts, and the job log's lines. What to do next with a job is `apply::machine`'s.
//!
//! The network side (create, upload, start, poll, read the log) is in [`aws`]; this module
//! never does I/O, so that resuming and reporting are tested without a runtime.

pub mod aws;
pub mod reason;

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// A job's status, exactly Cognito's eight (`UserImportJobStatusType`) \[MODEL\] \[JOB\].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum JobStatus {
    Created,
    Pending,
    InProgress,
    Stopping,
    Stopped,
    Succeeded,
    Failed,
    Expired,
    /// A status this build does not know; treated as still running.
    Other(String),
}

impl JobStatus {
    pub fn parse(text: &str) -> Self {
        match text {
            "Created" => JobStatus::Created,
            "Pending" => JobStatus::Pending,
            "InProgress" => JobStatus::InProgress,
            "Stopping" => JobStatus::Stopping,
            "Stopped" => JobStatus::Stopped,
            "Succeeded" => JobStatus::Succeeded,
            "Failed" => JobStatus::Failed,
            "Expired" => JobStatus::Expired,
            other => JobStatus::Other(other.to_owned()),
        }
    }

    /// Started and not finished: Cognito runs one such job per account and region.
    pub fn is_active(&self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::InProgress | JobStatus::Stopping | JobStatus::Other(_))
    }

    /// Finished for good: nothing will change any more.
    pub fn is_finished(&self) -> bool {
        matches!(self, JobStatus::Stopped | JobStatus::Succeeded | JobStatus::Failed | JobStatus::Expired)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobStatus::Other(s) => f.write_str(s),
            known => write!(f, "{known:?}"),
        }
    }
}

/// A pre-signed upload URL. It is a credential: it never appears in any output, log or
/// `Debug` print.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadUrl(String);

impl UploadUrl {
    pub fn new(url: String) -> Self {
        UploadUrl(url)
    }

    /// The URL itself, for the one request that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UploadUrl(<redacted>)")
    }
}

/// What Cognito says about one import job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub status: JobStatus,
    pub imported: u64,
    pub skipped: u64,
    pub failed: u64,
    pub completion_message: Option<String>,
    /// Epoch seconds.
    pub created_at: Option<f64>,
    #[serde(skip)]
    pub upload_url: Option<UploadUrl>,
    /// `PasswordHashingAlgorithm` of a password-hash job (SPEC §9), as Cognito echoes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hashing_algorithm: Option<String>,
}

impl Job {
    /// Whether this job was made by cognito-sync (see [`job_name`]).
    pub fn is_ours(&self) -> bool {
        self.name.starts_with(JOB_NAME_PREFIX)
    }
}

/// Every job cognito-sync creates is named with this prefix.
pub const JOB_NAME_PREFIX: &str = "cognito-sync-";

/// The job name for part `part` (1-based) of `parts` of a plan: derived from the plan's
/// digest, so that running the same plan again finds the job it already made instead of
/// importing twice. Fits Cognito's JobName pattern `^[\w\s+=,.@-]+$` and 128 characters.
pub fn job_name(plan_digest: &str, part: usize, parts: usize) -> String {
    let short: String = plan_digest.chars().filter(char::is_ascii_hexdigit).take(20).collect();
    if parts <= 1 { format!("{JOB_NAME_PREFIX}{short}") } else { format!("{JOB_NAME_PREFIX}{short}-{part}of{parts}") }
}

/// Of the jobs that carry one name, the one that counts when two runs of the same plan
/// each created one at the same moment: the oldest that has not expired (ties: the
/// smallest id). Every run picks the same one; the others stay `Created`, are never
/// uploaded or started, and expire.
pub fn winner(jobs_with_name: &[Job]) -> Option<&Job> {
    jobs_with_name.iter().filter(|j| j.status != JobStatus::Expired).min_by(|a, b| {
        a.created_at.partial_cmp(&b.created_at).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.id.cmp(&b.id))
    })
}

/// One line of a job's CloudWatch log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub outcome: Outcome,
    pub line_number: usize,
    pub reason: String,
}

/// `[SUCCEEDED|SKIPPED|FAILED] Line Number N - reason` \[CWL\]. Matched on the prefix, not
/// the wording of the reason, which varies. The reason is [`reason::sanitize`]d: whatever
/// Cognito writes, no value of the row is kept.
pub fn parse_log_line(message: &str) -> Option<LogLine> {
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*\[(SUCCEEDED|SKIPPED|FAILED)\]\s+Line Number\s+(\d+)\s*-\s*(.*?)\s*$").expect("valid regex")
    });
    let caps = LINE.captures(message)?;
    let outcome = match &caps[1] {
        "SUCCEEDED" => Outcome::Succeeded,
        "SKIPPED" => Outcome::Skipped,
        _ => Outcome::Failed,
    };
    Some(LogLine { outcome, line_number: caps[2].parse().ok()?, reason: reason::sanitize(&caps[3]) })
}

/// A user's outcome, from the log, mapped back through the CSV the tool wrote (see
/// `apply::verify::map_log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserOutcome {
    pub username: String,
    pub outcome: Outcome,
    pub reason: String,
}

/// The log group and stream Cognito writes a job's results to \[CWL\].
pub fn log_location(pool_id: &str, pool_name: &str, job: &Job) -> (String, String) {
    (format!("/aws/cognito/userpools/{pool_id}/{pool_name}"), format!("{}/{}", job.id, job.name))
}

/// A link to the job's log stream in the CloudWatch console.
pub fn log_console_url(region: &str, group: &str, stream: &str) -> String {
    // The console double-encodes: `/` becomes `$252F`.
    let encode = |s: &str| {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c.to_string(),
                c => {
                    let mut buf = [0; 4];
                    c.encode_utf8(&mut buf).bytes().map(|b| format!("$25{b:02X}")).collect()
                }
            })
            .collect::<String>()
    };
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
        encode(group),
        encode(stream)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus, url: bool) -> Job {
        Job {
            id: "import-abc".into(),
            name: "cognito-sync-0123".into(),
            status,
            imported: 0,
            skipped: 0,
            failed: 0,
            completion_message: None,
            created_at: None,
            upload_url: url.then(|| UploadUrl::new("https://secret".into())),
            password_hashing_algorithm: None,
        }
    }

    #[test]
    fn job_names_are_deterministic_and_valid() {
        let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(job_name(digest, 1, 1), "cognito-sync-9f86d081884c7d659a2f");
        assert_eq!(job_name(digest, 2, 3), "cognito-sync-9f86d081884c7d659a2f-2of3");
        let pattern = Regex::new(r"^[\w\s+=,.@-]{1,128}$").unwrap();
        assert!(pattern.is_match(&job_name(digest, 12, 12)));
    }

    #[test]
    fn concurrent_runs_agree_on_one_job() {
        let mut older = job(JobStatus::Created, true);
        older.created_at = Some(10.0);
        older.id = "import-b".into();
        let mut newer = job(JobStatus::Created, true);
        newer.created_at = Some(11.0);
        newer.id = "import-a".into();
        let mut expired = job(JobStatus::Expired, false);
        expired.created_at = Some(1.0);
        assert_eq!(winner(&[newer.clone(), older.clone(), expired.clone()]).unwrap().id, "import-b");
        assert_eq!(winner(&[older, newer]).unwrap().id, "import-b");
        assert!(winner(&[expired]).is_none());
    }

    #[test]
    fn the_upload_url_never_prints() {
        let job = job(JobStatus::Created, true);
        assert!(!format!("{job:?}").contains("secret"));
        assert!(!serde_json::to_string(&job).unwrap().contains("secret"));
    }

    #[test]
    fn parses_log_lines() {
        assert_eq!(
            parse_log_line("[SKIPPED] Line Number 5956 - The user already exists."),
            Some(LogLine { outcome: Outcome::Skipped, line_number: 5956, reason: "The user already exists.".into() })
        );
        let failed = parse_log_line(
            "[FAILED] Line Number 2 - The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).",
        )
        .unwrap();
        assert_eq!(failed.outcome, Outcome::Failed);
        assert!(parse_log_line("START RequestId").is_none());
    }

    #[test]
    fn console_link_encodes_the_names() {
        let url = log_console_url("us-east-1", "/aws/cognito/userpools/us-east-1_X/pool", "import-1/name");
        assert!(
            url.ends_with(
                "log-group/$252Faws$252Fcognito$252Fuserpools$252Fus-east-1_X$252Fpool/log-events/import-1$252Fname"
            ),
            "{url}"
        );
    }
}
