//! Cognito user import jobs: the pure part. Job names, statuses and what to do next with a
//! job found again after an interruption, the job log's lines, and the per-user report.
//!
//! The network side (create, upload, start, poll, read the log) is in [`aws`]; this module
//! never does I/O, so that resuming and reporting are tested without a runtime.

pub mod aws;

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

/// What to do with the job of this name, given what Cognito says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    /// No usable job: create one.
    Create,
    /// Made, maybe uploaded, not started: upload (again; a PUT replaces) and start.
    UploadAndStart(Job),
    /// Running: wait for it.
    Wait(Job),
    /// Finished: report it, do not import again.
    Report(Job),
}

/// Picks the step for a plan part from the jobs that carry its name:
/// - a job that is running is waited for;
/// - a job that processed rows is reported, never repeated;
/// - a job that is created and not started is uploaded and started (the one every
///   concurrent run agrees on, see [`winner`]);
/// - otherwise (none, expired, an upload URL that is gone, or a job that ended before
///   processing any row, e.g. because the role could not be assumed) a new one is created.
pub fn next_step(jobs_with_name: &[Job]) -> NextStep {
    if let Some(running) = jobs_with_name.iter().find(|j| j.status.is_active()) {
        return NextStep::Wait(running.clone());
    }
    let processed = |j: &&Job| j.imported + j.skipped + j.failed > 0;
    if let Some(done) = jobs_with_name.iter().filter(|j| j.status.is_finished()).find(processed) {
        return NextStep::Report(done.clone());
    }
    let created: Vec<Job> =
        jobs_with_name.iter().filter(|j| j.status == JobStatus::Created && j.upload_url.is_some()).cloned().collect();
    match winner(&created) {
        Some(job) => NextStep::UploadAndStart(job.clone()),
        None => NextStep::Create,
    }
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
/// the wording of the reason, which varies.
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
    Some(LogLine { outcome, line_number: caps[2].parse().ok()?, reason: caps[3].to_owned() })
}

/// The number Cognito's log gives the first data row. AWS does not document whether the
/// header counts; its own sample numbers data rows from 1 \[AWS-SAMPLE\], and so does the
/// emulator. [`user_outcomes`] checks the numbers against the file and says when they do
/// not fit.
pub const FIRST_DATA_LINE: usize = 1;

/// A user's outcome, from the log, mapped back through the CSV the tool wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserOutcome {
    pub username: String,
    pub outcome: Outcome,
    pub reason: String,
}

/// Maps log lines to usernames (`usernames[i]` is data row `i + 1`). Returns the outcomes
/// in row order and whether the numbering looked shifted by the header (line numbers past
/// the last row), in which case the header is assumed counted and a note is due.
pub fn user_outcomes(lines: &[LogLine], usernames: &[String]) -> (Vec<UserOutcome>, bool) {
    let header_counted = lines.iter().any(|l| l.line_number > usernames.len() + FIRST_DATA_LINE - 1)
        || lines.iter().all(|l| l.line_number > FIRST_DATA_LINE) && lines.len() == usernames.len() && !lines.is_empty();
    let first = if header_counted { FIRST_DATA_LINE + 1 } else { FIRST_DATA_LINE };
    let mut outcomes: Vec<(usize, UserOutcome)> = lines
        .iter()
        .filter_map(|line| {
            let row = line.line_number.checked_sub(first)?;
            let username = usernames.get(row)?.clone();
            Some((row, UserOutcome { username, outcome: line.outcome.clone(), reason: line.reason.clone() }))
        })
        .collect();
    outcomes.sort_by_key(|(row, _)| *row);
    outcomes.dedup_by_key(|(row, _)| *row);
    (outcomes.into_iter().map(|(_, o)| o).collect(), header_counted)
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
    fn resume_picks_the_right_step() {
        assert_eq!(next_step(&[]), NextStep::Create);
        assert!(matches!(next_step(&[job(JobStatus::Created, true)]), NextStep::UploadAndStart(_)));
        assert_eq!(next_step(&[job(JobStatus::Created, false)]), NextStep::Create);
        assert_eq!(next_step(&[job(JobStatus::Expired, false)]), NextStep::Create);
        assert!(matches!(next_step(&[job(JobStatus::InProgress, false)]), NextStep::Wait(_)));
        assert!(matches!(next_step(&[job(JobStatus::Pending, false)]), NextStep::Wait(_)));
        let processed = |status| Job { imported: 1, ..job(status, false) };
        assert!(matches!(next_step(&[processed(JobStatus::Succeeded)]), NextStep::Report(_)));
        assert!(matches!(next_step(&[processed(JobStatus::Failed)]), NextStep::Report(_)));
        // A job that failed before any row (the role, say) is tried again with a new job.
        assert_eq!(next_step(&[job(JobStatus::Failed, false)]), NextStep::Create);
        // An expired job does not hide an older one that ran.
        assert!(matches!(
            next_step(&[job(JobStatus::Expired, false), processed(JobStatus::Succeeded)]),
            NextStep::Report(_)
        ));
        // A running job wins over everything else.
        assert!(matches!(
            next_step(&[job(JobStatus::Created, true), job(JobStatus::InProgress, false)]),
            NextStep::Wait(_)
        ));
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
    fn maps_line_numbers_to_usernames() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let lines = vec![
            LogLine { outcome: Outcome::Succeeded, line_number: 1, reason: "ok".into() },
            LogLine { outcome: Outcome::Failed, line_number: 3, reason: "bad email".into() },
            LogLine { outcome: Outcome::Skipped, line_number: 2, reason: "exists".into() },
        ];
        let (outcomes, shifted) = user_outcomes(&lines, &names);
        assert!(!shifted);
        assert_eq!(outcomes.iter().map(|o| o.username.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(outcomes[2].outcome, Outcome::Failed);
        // Numbered from the header: every number one higher, the last past the end.
        let shifted_lines: Vec<LogLine> =
            lines.iter().map(|l| LogLine { line_number: l.line_number + 1, ..l.clone() }).collect();
        let (outcomes, shifted) = user_outcomes(&shifted_lines, &names);
        assert!(shifted);
        assert_eq!(outcomes[2].username, "c");
        assert_eq!(outcomes[2].reason, "bad email");
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
