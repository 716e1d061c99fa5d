//! `jobs`: the pool's import jobs, newest first, or one job with its failed and skipped
//! rows from its CloudWatch log. Only reads: it never starts, stops or changes a job.
//!
//! A job's log numbers the rows of the CSV that was uploaded, not users: without that CSV
//! the rows cannot be named. `apply` keeps the CSV while it waits, and its report names
//! every user; this command shows line numbers, and says so.

use miette::IntoDiagnostic;
use serde::Serialize;

use crate::cli::{JobsArgs, ReportFormat};
use crate::error::ExitStatus;
use crate::import::aws::{CognitoImports, LogRows};
use crate::import::{Job, JobStatus, Outcome, log_location};
use crate::output::{Printer, Role};
use crate::pool::aws::CognitoPool;
use crate::settings::Settings;

/// The version of the JSON documents `jobs --format json` prints.
pub const SCHEMA_VERSION: u32 = 1;

pub fn run(args: &JobsArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let (manifest, job_id) = args.targets();
    let (pool_id, region) = super::pool_only_target(&manifest, settings)?;
    // How a suggested `jobs` command names the pool: as this run did.
    let pool_words: Vec<String> = match &settings.aws.pool_id {
        Some(_) => Vec::new(),
        None => vec![manifest.display().to_string()],
    };
    super::block_on(async {
        match &job_id {
            None => list(args, &pool_id, &region, &pool_words, settings, printer).await,
            Some(job_id) => detail(args, job_id, &pool_id, &region, &pool_words, settings, printer).await,
        }
    })
}

/// `cognito-sync jobs`, for the pool this run read, and then `more`.
fn jobs_command(pool_words: &[String], more: &[&str], settings: &Settings) -> String {
    settings.suggest(std::iter::once("jobs").chain(pool_words.iter().map(String::as_str)).chain(more.iter().copied()))
}

/// One job as `jobs` shows it: Cognito's fields, whether cognito-sync made it, and the
/// creation time in RFC 3339 UTC.
#[derive(Debug, Serialize)]
struct JobView {
    id: String,
    name: String,
    /// Made by cognito-sync (its name starts with `cognito-sync-`).
    ours: bool,
    status: String,
    imported: u64,
    skipped: u64,
    failed: u64,
    /// RFC 3339, UTC.
    created: Option<String>,
    completion_message: Option<String>,
}

impl JobView {
    fn new(job: &Job) -> Self {
        JobView {
            id: job.id.clone(),
            name: job.name.clone(),
            ours: job.is_ours(),
            status: job.status.to_string(),
            imported: job.imported,
            skipped: job.skipped,
            failed: job.failed,
            created: job.created_at.and_then(rfc3339),
            completion_message: job.completion_message.clone(),
        }
    }
}

fn rfc3339(epoch: f64) -> Option<String> {
    #[allow(clippy::cast_possible_truncation)]
    let seconds = epoch.floor() as i64;
    jiff::Timestamp::from_second(seconds).ok().map(|t| t.to_string())
}

/// `jobs --format json` without a job id.
#[derive(Debug, Serialize)]
struct JobList<'a> {
    schema_version: u32,
    command: &'static str,
    pool_id: &'a str,
    /// Jobs in the pool; `jobs` shows the newest `shown` of them.
    total: usize,
    jobs: Vec<JobView>,
}

/// `jobs JOB_ID --format json`.
#[derive(Debug, Serialize)]
struct JobDetail<'a> {
    schema_version: u32,
    command: &'static str,
    pool_id: &'a str,
    job: JobView,
    log_group: String,
    log_stream: String,
    /// The AWS console's link to the log stream; null with a custom endpoint (an emulator).
    console_url: Option<String>,
    /// Every failed or skipped row of the job's log. `line_number` counts the data rows of
    /// the uploaded CSV from 1; the log does not name users.
    rows: Vec<Row>,
    /// Rows the log reports as imported.
    succeeded_rows: usize,
}

#[derive(Debug, Serialize)]
struct Row {
    line_number: usize,
    outcome: Outcome,
    reason: String,
}

async fn list(
    args: &JobsArgs,
    pool_id: &str,
    region: &str,
    pool_words: &[String],
    settings: &Settings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    // Missing credentials are told as such, before any request (the pool reader checks them).
    CognitoPool::connect(&settings.aws, pool_id, region, super::pacer(settings)).await?;
    let config = crate::aws::sdk_config(&settings.aws, Some(region)).await;
    let jobs = CognitoImports::new(&config).list_jobs(pool_id).await?;
    let shown = if args.limit == 0 { jobs.len() } else { args.limit.min(jobs.len()) };
    let views: Vec<JobView> = jobs.iter().take(shown).map(JobView::new).collect();
    let rendered = match args.format {
        ReportFormat::Json => {
            json(&JobList { schema_version: SCHEMA_VERSION, command: "jobs", pool_id, total: jobs.len(), jobs: views })?
        }
        ReportFormat::Text => {
            let example = views.first().map_or("JOB_ID", |j| j.id.as_str());
            let more = jobs_command(pool_words, &["--limit", "0"], settings);
            let one = jobs_command(pool_words, &[example], settings);
            render_list(pool_id, &views, jobs.len(), (&more, &one), printer)
        }
    };
    printer.data(&rendered).into_diagnostic()?;
    Ok(ExitStatus::Success)
}

/// `hints`: the commands that show every job, and one job.
fn render_list(pool_id: &str, jobs: &[JobView], total: usize, hints: (&str, &str), printer: &Printer) -> String {
    let paint = printer.stdout_paint;
    if jobs.is_empty() {
        return format!("no import jobs in pool `{pool_id}`\n");
    }
    let width = |f: &dyn Fn(&JobView) -> usize, min: usize| jobs.iter().map(f).max().unwrap_or(0).max(min);
    let id_width = width(&|j| j.id.len(), 6);
    let status_width = width(&|j| j.status.len(), 6);
    let mut out = format!(
        "import jobs of pool `{}`, newest first (`*`: made by cognito-sync)\n",
        paint.paint(Role::Name, pool_id)
    );
    out.push_str(&format!(
        "  {:<20}  {:<status_width$}  {:>8}  {:>7}  {:>6}  {:<id_width$}  NAME\n",
        "CREATED (UTC)", "STATUS", "IMPORTED", "SKIPPED", "FAILED", "JOB ID"
    ));
    for job in jobs {
        let status = format!("{:<status_width$}", job.status);
        let role = match job.status.as_str() {
            "Succeeded" if job.failed == 0 => Role::Create,
            "Failed" | "Expired" => Role::Error,
            _ if job.failed > 0 => Role::Error,
            _ => Role::Drift,
        };
        out.push_str(&format!(
            "{} {:<20}  {}  {:>8}  {:>7}  {:>6}  {:<id_width$}  {}\n",
            if job.ours { "*" } else { " " },
            job.created.as_deref().unwrap_or("-"),
            paint.paint(role, &status),
            job.imported,
            job.skipped,
            job.failed,
            job.id,
            job.name,
        ));
    }
    if total > jobs.len() {
        let older = total - jobs.len();
        let what = if older == 1 { "1 older job".to_owned() } else { format!("{older} older jobs") };
        out.push_str(&format!("({what} not shown: `{}` shows all)\n", hints.0));
    }
    out.push_str(&format!("show one job and its failed and skipped rows: `{}`\n", hints.1));
    out
}

async fn detail(
    args: &JobsArgs,
    job_id: &str,
    pool_id: &str,
    region: &str,
    pool_words: &[String],
    settings: &Settings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    // The log group is named after the pool's name, which only DescribeUserPool tells.
    let reader = CognitoPool::connect(&settings.aws, pool_id, region, super::pacer(settings)).await?;
    let pool = reader.describe_pool().await?;
    let config = crate::aws::sdk_config(&settings.aws, Some(region)).await;
    let imports = CognitoImports::new(&config);
    let job = imports.describe(pool_id, job_id).await.map_err(|mut error| {
        if error.code.as_deref() == Some("ResourceNotFoundException") {
            error.reason = format!("pool `{pool_id}` has no import job `{job_id}`");
            error.help = Some(format!(
                "list the pool's jobs with `{}`; a job id looks like `import-AbC123`",
                jobs_command(pool_words, &[], settings)
            ));
        }
        error
    })?;
    let (group, stream) = log_location(pool_id, &pool.name, &job);
    let lines = imports.read_log(&group, &stream, LogRows::All).await?;
    let succeeded_rows = lines.iter().filter(|l| l.outcome == Outcome::Succeeded).count();
    let mut rows: Vec<Row> = lines
        .into_iter()
        .filter(|l| l.outcome != Outcome::Succeeded)
        .map(|l| Row { line_number: l.line_number, outcome: l.outcome, reason: l.reason })
        .collect();
    rows.sort_by_key(|r| r.line_number);
    let report = JobDetail {
        schema_version: SCHEMA_VERSION,
        command: "jobs",
        pool_id,
        console_url: settings.log_console_url(&pool.region, &group, &stream),
        log_group: group,
        log_stream: stream,
        job: JobView::new(&job),
        rows,
        succeeded_rows,
    };
    let rendered = match args.format {
        ReportFormat::Json => json(&report)?,
        ReportFormat::Text => render_detail(&report, &job, printer),
    };
    printer.data(&rendered).into_diagnostic()?;
    Ok(ExitStatus::Success)
}

fn render_detail(report: &JobDetail<'_>, job: &Job, printer: &Printer) -> String {
    let paint = printer.stdout_paint;
    let view = &report.job;
    let status_role = match job.status {
        JobStatus::Succeeded if job.failed == 0 => Role::Create,
        JobStatus::Succeeded | JobStatus::Failed | JobStatus::Expired => Role::Error,
        _ => Role::Drift,
    };
    let mut out = format!(
        "import job `{}` (`{}`){}\n",
        paint.paint(Role::Name, &view.id),
        view.name,
        if view.ours { ", made by cognito-sync" } else { "" }
    );
    out.push_str(&format!("  pool:       `{}`\n", report.pool_id));
    out.push_str(&format!("  status:     {}\n", paint.paint(status_role, &view.status)));
    out.push_str(&format!("  created:    {}\n", view.created.as_deref().unwrap_or("-")));
    out.push_str(&format!(
        "  users:      {} imported, {} skipped, {} failed of {}\n",
        view.imported,
        view.skipped,
        view.failed,
        view.imported + view.skipped + view.failed
    ));
    if let Some(message) = &view.completion_message {
        out.push_str(&format!("  Cognito says: {message}\n"));
    }
    out.push_str(&format!("  log group:  `{}`\n  log stream: `{}`\n", report.log_group, report.log_stream));
    if let Some(url) = &report.console_url {
        out.push_str(&format!("  {url}\n"));
    }
    if report.rows.is_empty() {
        let why = if report.succeeded_rows == 0 && !job.status.is_finished() {
            "the job has not processed any row yet"
        } else if report.succeeded_rows == 0 {
            "no failed or skipped rows in its log (no log at all when no row was processed)"
        } else {
            "no failed or skipped rows in its log"
        };
        out.push_str(&format!("{why}\n"));
        return out;
    }
    out.push_str(&format!(
        "{} (data lines of the uploaded CSV; `apply`'s own report names the users):\n",
        crate::output::plural(report.rows.len() as u64, "failed or skipped row", "failed or skipped rows")
    ));
    for row in &report.rows {
        let (marker, role, word) = match row.outcome {
            Outcome::Failed => ("!", Role::Error, "failed"),
            Outcome::Skipped => ("-", Role::Drift, "skipped"),
            Outcome::Succeeded => ("+", Role::Create, "imported"),
        };
        out.push_str(&format!("  {} line {} {word}: {}\n", paint.paint(role, marker), row.line_number, row.reason));
    }
    out
}

fn json(value: &impl Serialize) -> miette::Result<String> {
    let mut text = serde_json::to_string_pretty(value).into_diagnostic()?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000.75).as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn the_list_marks_our_jobs() {
        let printer = Printer {
            stdout_paint: crate::output::Paint::new(false),
            stderr_paint: crate::output::Paint::new(false),
            verbosity: crate::settings::Verbosity::Normal,
        };
        let job = |id: &str, name: &str, status: JobStatus| {
            JobView::new(&Job {
                id: id.into(),
                name: name.into(),
                status,
                imported: 3,
                skipped: 1,
                failed: 0,
                completion_message: None,
                created_at: Some(1_700_000_000.0),
                upload_url: None,
                password_hashing_algorithm: None,
            })
        };
        let text = render_list(
            "eu-west-1_Abc",
            &[
                job("import-2", "cognito-sync-abc", JobStatus::Succeeded),
                job("import-1", "console", JobStatus::Stopped),
            ],
            3,
            ("cognito-sync jobs users.yaml --limit 0", "cognito-sync jobs users.yaml import-2"),
            &printer,
        );
        insta::assert_snapshot!(text, @r"
        import jobs of pool `eu-west-1_Abc`, newest first (`*`: made by cognito-sync)
          CREATED (UTC)         STATUS     IMPORTED  SKIPPED  FAILED  JOB ID    NAME
        * 2023-11-14T22:13:20Z  Succeeded         3        1       0  import-2  cognito-sync-abc
          2023-11-14T22:13:20Z  Stopped           3        1       0  import-1  console
        (1 older job not shown: `cognito-sync jobs users.yaml --limit 0` shows all)
        show one job and its failed and skipped rows: `cognito-sync jobs users.yaml import-2`
        ");
    }
}
