//! The Cognito and CloudWatch Logs calls of an import job: list, create, upload, start,
//! describe, and read the job's log. The only file of `import` that knows the SDK.
//!
//! Throttling and 5xx are retried by the SDK (adaptive retry, `crate::aws`). What is retried
//! here is what the SDK cannot know about: a role that IAM has not propagated yet, an upload
//! not yet visible to StartUserImportJob, another job holding the account's one slot.
// One of the three adapters allowed to hold AWS clients (clippy.toml).
#![allow(clippy::disallowed_types)]

use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client as LogsClient;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::UserImportJobType;

use super::{Job, JobStatus, LogLine, UploadUrl, parse_log_line};

/// Why an import step failed: the step, what Cognito said, and what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("failed to {doing}: {reason}")]
pub struct ImportError {
    /// "`<verb> <object>`", e.g. "create import job `cognito-sync-…` in pool `us-east-1_X`".
    pub doing: String,
    pub reason: String,
    /// The service's error code, when it sent one.
    pub code: Option<String>,
    #[help]
    pub help: Option<String>,
}

impl ImportError {
    fn new(doing: String, reason: String, code: Option<String>, help: Option<String>) -> Self {
        ImportError { doing, reason, code, help }
    }
}

/// Turns an SDK error into the code and a message, with a hint for the common codes.
fn explain<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: &SdkError<E, R>,
    action: &str,
) -> (String, Option<String>, Option<String>) {
    let code = error.code().map(str::to_owned);
    let message = error.message().map(str::to_owned).unwrap_or_else(|| match error {
        SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => "the endpoint could not be reached".to_owned(),
        // Not the network: e.g. no usable credentials, which are resolved while sending.
        SdkError::DispatchFailure(_) => "the request could not be sent (are AWS credentials configured?)".to_owned(),
        SdkError::TimeoutError(_) => "the request timed out".to_owned(),
        other => std::error::Error::source(other).map_or_else(|| other.to_string(), |s| s.to_string()),
    });
    let help = match code.as_deref() {
        Some("AccessDeniedException" | "NotAuthorizedException" | "AccessDenied") => {
            Some(format!("the caller needs the IAM permission `{action}`; see the README's IAM section"))
        }
        Some("ResourceNotFoundException") => Some("check the pool id, `--region` and `--profile`".to_owned()),
        Some("TooManyRequestsException" | "ThrottlingException") => {
            Some("Cognito kept throttling after retries; run again later".to_owned())
        }
        _ if matches!(error, SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout()) => {
            Some("check the network, `--endpoint-url` / `AWS_ENDPOINT_URL` and `--region`".to_owned())
        }
        _ if matches!(error, SdkError::DispatchFailure(_)) => Some(
            "configure credentials the AWS CLI way: `AWS_PROFILE` or `--profile`, `aws sso login`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or a web identity in CI".to_owned(),
        ),
        _ => None,
    };
    let reason = match &code {
        Some(code) => format!("{code}: {message}"),
        None => message,
    };
    (reason, code, help)
}

/// The code an upload error carries when the pre-signed URL has expired (S3 answers
/// `AccessDenied` "Request has expired"): the job needs a new URL, so a new job.
pub const UPLOAD_URL_EXPIRED: &str = "UploadUrlExpired";

/// Import-job operations on one pool.
pub struct CognitoImports {
    cognito: Client,
    logs: LogsClient,
    http: reqwest::Client,
}

impl CognitoImports {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        CognitoImports {
            cognito: Client::new(config),
            logs: LogsClient::new(config),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(300))
                .build()
                .expect("an HTTP client with default TLS settings"),
        }
    }

    /// Every import job of the pool, newest first.
    pub async fn list_jobs(&self, pool_id: &str) -> Result<Vec<Job>, ImportError> {
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // MaxResults is required, 1 to 60. [MODEL]
            let page = self
                .cognito
                .list_user_import_jobs()
                .user_pool_id(pool_id)
                .max_results(60)
                .set_pagination_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    let (reason, code, help) = explain(&e, "cognito-idp:ListUserImportJobs");
                    ImportError::new(format!("list import jobs of pool `{pool_id}`"), reason, code, help)
                })?;
            jobs.extend(page.user_import_jobs().iter().map(to_job));
            match page.pagination_token() {
                Some(next) if !next.is_empty() && !page.user_import_jobs().is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        jobs.sort_by(|a, b| b.created_at.partial_cmp(&a.created_at).unwrap_or(std::cmp::Ordering::Equal));
        Ok(jobs)
    }

    pub async fn describe(&self, pool_id: &str, job_id: &str) -> Result<Job, ImportError> {
        let out =
            self.cognito.describe_user_import_job().user_pool_id(pool_id).job_id(job_id).send().await.map_err(|e| {
                let (reason, code, help) = explain(&e, "cognito-idp:DescribeUserImportJob");
                ImportError::new(format!("describe import job `{job_id}`"), reason, code, help)
            })?;
        out.user_import_job().map(to_job).ok_or_else(|| {
            ImportError::new(format!("describe import job `{job_id}`"), "the answer held no job".into(), None, None)
        })
    }

    /// Creates the job. When this run created the role, Cognito may not see it yet: its
    /// error is retried as `crate::role::propagation_retry_delay` says.
    pub async fn create(
        &self,
        pool_id: &str,
        name: &str,
        role_arn: &str,
        role_is_new: bool,
        algorithm: Option<&str>,
        mut on_retry: impl FnMut(&str, Duration),
    ) -> Result<Job, ImportError> {
        let mut attempt = 0;
        loop {
            let result = self
                .cognito
                .create_user_import_job()
                .user_pool_id(pool_id)
                .job_name(name)
                .cloud_watch_logs_role_arn(role_arn)
                .set_password_hashing_algorithm(
                    algorithm.map(aws_sdk_cognitoidentityprovider::types::PasswordHashingAlgorithmType::from),
                )
                .send()
                .await;
            match result {
                Ok(out) => {
                    return out.user_import_job().map(to_job).ok_or_else(|| {
                        ImportError::new(
                            format!("create import job `{name}`"),
                            "the answer held no job".into(),
                            None,
                            None,
                        )
                    });
                }
                Err(e) => {
                    if let Some(delay) = crate::role::propagation_retry_delay(e.code(), role_is_new, attempt) {
                        on_retry(
                            "Cognito cannot assume the import role yet (a role created or changed moments ago takes a while to propagate in IAM)",
                            delay,
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    // LimitExceededException is returned as is: the caller lists the jobs to
                    // tell another active job from the pool's 1,000-jobs quota.
                    let (reason, code, mut help) = explain(&e, "cognito-idp:CreateUserImportJob");
                    if code.as_deref() == Some("OperationNotEnabledException") {
                        help = Some(format!(
                            "pool `{pool_id}` is a secondary replica in this Region: import jobs run only in the pool's primary Region; run `cognito-sync apply` with `--region` set to it"
                        ));
                    }
                    if code.as_deref() == Some("InvalidParameterException") {
                        help = Some(format!(
                            "Cognito could not use the role `{role_arn}`: check it with `cognito-sync role`; the caller also needs `iam:PassRole` on it"
                        ));
                    }
                    if code.as_deref() == Some("AccessDeniedException") {
                        help = Some(format!(
                            "the caller needs `cognito-idp:CreateUserImportJob` on the pool and `iam:PassRole` on `{role_arn}`"
                        ));
                    }
                    return Err(ImportError::new(
                        format!("create import job `{name}` in pool `{pool_id}`"),
                        reason,
                        code,
                        help,
                    ));
                }
            }
        }
    }

    /// PUTs the CSV to the job's pre-signed URL with the one header Cognito signs into it.
    /// Transient failures (5xx, connection errors) are retried; a 4xx is final. Error
    /// messages never include the URL: it is a credential.
    pub async fn upload(&self, url: &UploadUrl, body: Vec<u8>, job_id: &str) -> Result<(), ImportError> {
        let doing = || format!("upload the CSV of import job `{job_id}`");
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=5 {
            let sent = self
                .http
                .put(url.expose())
                // [JOB] [AWS-SAMPLE]: the URL signs this header; without it S3 answers 403.
                .header("x-amz-server-side-encryption", "aws:kms")
                .body(body.clone())
                .send()
                .await;
            let retry_reason = match sent {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status().is_server_error() => format!("HTTP {}", response.status()),
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    let code = xml_tag(&text, "Code");
                    let help = match code.as_deref() {
                        Some("AccessDenied") if text.contains("expired") => Some(
                            "the upload URL is valid for 15 minutes after the job is created; run `cognito-sync apply` again to create a new job"
                                .to_owned(),
                        ),
                        Some("SignatureDoesNotMatch") => Some(
                            "the upload was rejected by S3's signature check; this is a bug in cognito-sync, please report it"
                                .to_owned(),
                        ),
                        _ => None,
                    };
                    let expired = code.as_deref() == Some("AccessDenied") && text.contains("expired");
                    let reason = format!("HTTP {status}{}", code.map(|c| format!(" {c}")).unwrap_or_default());
                    let code = expired.then(|| UPLOAD_URL_EXPIRED.to_owned());
                    return Err(ImportError::new(doing(), reason, code, help));
                }
                Err(error) => error.without_url().to_string(),
            };
            if attempt == 5 {
                return Err(ImportError::new(
                    doing(),
                    retry_reason,
                    None,
                    Some("the upload failed 5 times; run `cognito-sync apply` again: it resumes this job".into()),
                ));
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Starts the job, once. A refusal because another run of the same plan started the job
    /// a moment ago is a success: Cognito does not document the code of a start of a job that
    /// is no longer `Created` (`PreconditionNotMetException` or `InvalidParameterException`:
    /// the conformance kit's `restart_refusal_code` probe), so on either the job is described,
    /// and if it has left `Created` it is returned as started. Any other refusal is returned
    /// with its code, for the caller to recognise (another job active: LimitExceededException
    /// or PreconditionNotMetException, Cognito does not document which; the upload not
    /// visible yet: PreconditionNotMetException).
    pub async fn start(&self, pool_id: &str, job_id: &str) -> Result<Job, ImportError> {
        let error = match self.cognito.start_user_import_job().user_pool_id(pool_id).job_id(job_id).send().await {
            Ok(out) => {
                return out.user_import_job().map(to_job).ok_or_else(|| {
                    ImportError::new(
                        format!("start import job `{job_id}`"),
                        "the answer held no job".into(),
                        None,
                        None,
                    )
                });
            }
            Err(error) => error,
        };
        if matches!(error.code(), Some("PreconditionNotMetException" | "InvalidParameterException"))
            && let Ok(job) = self.describe(pool_id, job_id).await
            && job.status != JobStatus::Created
        {
            return Ok(job);
        }
        let (reason, code, help) = explain(&error, "cognito-idp:StartUserImportJob");
        Err(ImportError::new(format!("start import job `{job_id}`"), reason, code, help))
    }

    /// The lines of the job's log that have Cognito's per-row shape, in line-number order:
    /// all of them, or only the SKIPPED and FAILED ones a report names (a filter pattern
    /// then leaves the successes, most of a 100k-row log, in CloudWatch). One reader,
    /// FilterLogEvents, for both. A missing log group or stream (no row processed yet, or
    /// the role could not write) gives no lines.
    pub async fn read_log(&self, group: &str, stream: &str, rows: LogRows) -> Result<Vec<LogLine>, ImportError> {
        let pattern = match rows {
            LogRows::All => None,
            LogRows::Problems => Some(PROBLEM_ROWS),
        };
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .log_stream_names(stream)
                .set_filter_pattern(pattern.map(str::to_owned))
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(lines),
                Err(e) => {
                    let (reason, code, help) = explain(&e, "logs:FilterLogEvents");
                    return Err(ImportError::new(format!("read the log stream `{stream}`"), reason, code, help));
                }
            };
            lines.extend(page.events().iter().filter_map(|e| e.message()).filter_map(parse_log_line));
            // A page may be empty with more to come: the token alone says when it ends.
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        lines.sort_by_key(|l| l.line_number);
        Ok(lines)
    }
}

/// Which lines of a job's log [`CognitoImports::read_log`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRows {
    /// Every row's line (`jobs JOB_ID` counts the successes too).
    All,
    /// The SKIPPED and FAILED lines (`apply`'s report).
    Problems,
}

/// CloudWatch Logs' filter pattern for the rows a report names: either term matches.
const PROBLEM_ROWS: &str = r#"?"[FAILED]" ?"[SKIPPED]""#;

fn to_job(job: &UserImportJobType) -> Job {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Job {
        id: job.job_id().unwrap_or_default().to_owned(),
        name: job.job_name().unwrap_or_default().to_owned(),
        status: JobStatus::parse(job.status().map(|s| s.as_str()).unwrap_or("Unknown")),
        imported: count(job.imported_users()),
        skipped: count(job.skipped_users()),
        failed: count(job.failed_users()),
        completion_message: job.completion_message().map(str::to_owned),
        created_at: job.creation_date().map(|d| d.as_secs_f64()),
        upload_url: job.pre_signed_url().filter(|u| !u.is_empty()).map(|u| UploadUrl::new(u.to_owned())),
        password_hashing_algorithm: job.password_hashing_algorithm().map(|a| a.as_str().to_owned()),
    }
}

/// The text of the first `<tag>` of an S3 XML error body.
fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..start + end].to_owned())
}
