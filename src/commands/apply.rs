//! `apply`: plan (or read a saved plan), confirm, make sure of the shared role, then run
//! one import job per import file and report every user that Cognito skipped or failed.
//!
//! Safe to re-run: a job's name is derived from the plan's digest, so a run that was
//! interrupted after creating, uploading or starting the job finds that job again and
//! carries on with it instead of importing twice.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

use miette::{Context, IntoDiagnostic};
use serde::{Deserialize, Serialize};

use super::validate::{load_manifest, load_valid};
use crate::cli::{ApplyArgs, ReportFormat};
use crate::error::ExitStatus;
use crate::import::aws::CognitoImports;
use crate::import::{
    Job, JobStatus, NextStep, Outcome, UserOutcome, job_name, log_location, next_step, user_outcomes, winner,
};
use crate::import_file::{ImportFile, private_temp_file};
use crate::output::progress::Progress;
use crate::output::{Printer, Role};
use crate::plan::render::{RenderOptions, text};
use crate::plan::report::plan_digest;
use crate::role::aws::{RoleIam, WantedRole};
use crate::settings::Settings;

/// What is to be imported, from a fresh plan or a saved one.
struct Work {
    /// The manifest the plan was made from, for hints.
    manifest: std::path::PathBuf,
    pool_id: String,
    pool_name: String,
    region: String,
    plan_digest: String,
    files: Vec<ImportFile>,
    role: String,
    scoped_trust: bool,
}

pub fn run(args: &ApplyArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let saved = args.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    // Offline first: an invalid manifest or plan file sends nothing.
    let source = if saved {
        Source::Saved(Box::new(SavedPlan::read(&args.input, settings)?))
    } else {
        Source::Manifest(Box::new(load_manifest(&args.input, settings)?))
    };
    let manifest = match &source {
        Source::Manifest(_) => args.input.clone(),
        Source::Saved(plan) => plan.manifest.path.clone().into(),
    };
    super::block_on(apply(args, source, settings, printer))
        .map_err(|report| runnable_hints(report, args, &manifest, settings))
}

/// The adapters' hints name commands without this run's paths and flags
/// ("run `cognito-sync apply` again"): this completes them so that they run when pasted.
fn runnable_hints(report: miette::Report, args: &ApplyArgs, manifest: &Path, settings: &Settings) -> miette::Report {
    let report = match report.downcast::<crate::role::RoleError>() {
        Ok(error) => return super::role::with_hints(error, manifest, settings),
        Err(report) => report,
    };
    let mut report = report;
    if let Some(error) = report.downcast_mut::<crate::import::aws::ImportError>()
        && let Some(help) = &mut error.help
    {
        *help = help
            .replace("`cognito-sync apply`", &format!("`{}`", settings.suggest([Path::new("apply"), &args.input])))
            .replace("`cognito-sync role`", &format!("`{}`", settings.suggest([Path::new("role"), manifest])));
    }
    report
}

enum Source {
    Manifest(Box<crate::manifest::ValidManifest>),
    Saved(Box<SavedPlan>),
}

async fn apply(args: &ApplyArgs, source: Source, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let (pool_id, region) = match &source {
        Source::Manifest(manifest) => super::pool_target(manifest, settings),
        Source::Saved(plan) => (plan.pool.id.clone(), plan.pool.region.clone()),
    };
    let config = crate::aws::sdk_config(&settings.aws, Some(&region)).await;
    let imports = CognitoImports::new(&config);

    // Cognito runs one import job at a time per account and region: let a running one
    // finish first, so that the plan below sees what it imported.
    let jobs = imports.list_jobs(&pool_id).await?;
    if let Some(active) = jobs.iter().find(|j| j.status.is_active()) {
        if args.no_wait {
            printer.status(format!(
                "import job `{}` (`{}`) is {} in pool `{pool_id}`; run `{}` again when it has finished",
                active.id,
                active.name,
                active.status,
                settings.suggest([Path::new("apply"), &args.input])
            ));
            return Ok(ExitStatus::Failure);
        }
        printer.status(format!(
            "import job `{}` (`{}`) is already {} in pool `{pool_id}`: waiting for it to finish first",
            active.id, active.name, active.status
        ));
        let finished = wait(&imports, &pool_id, active.clone(), None, settings).await?;
        printer.status(format!("import job `{}` ended {}", finished.id, summary_line(&finished)));
        if finished.failed + finished.skipped > 0 {
            printer.status(format!(
                "its skipped and failed rows, with Cognito's reasons: `{}`",
                settings.suggest(["jobs", "--pool-id", &pool_id, &finished.id])
            ));
        }
    }

    let work = match source {
        Source::Manifest(manifest) => {
            let plan = super::plan::read_plan(&manifest, settings, args.max_rps, None).await?;
            if args.format == ReportFormat::Text {
                let rendered = text(&plan, RenderOptions { show_pii: args.show_pii, paint: printer.stdout_paint });
                printer.data(&rendered).into_diagnostic()?;
            }
            let rows = plan.rows();
            Work {
                manifest: args.input.clone(),
                plan_digest: plan_digest(&plan, &rows),
                pool_id: plan.pool.id.clone(),
                pool_name: plan.pool.name.clone(),
                region: plan.pool.region.clone(),
                files: plan.import_files,
                role: manifest.role.clone(),
                scoped_trust: manifest.scoped_trust,
            }
        }
        Source::Saved(saved) => {
            let jobs = imports.list_jobs(&pool_id).await?;
            saved.into_work(&jobs, &args.input, settings, args.max_rps).await?
        }
    };

    let users: usize = work.files.iter().map(|f| f.usernames.len()).sum();
    if users == 0 {
        printer.status("nothing to import: every declared user is in the pool");
        if args.format == ReportFormat::Json {
            let report = ApplyReport { schema_version: 1, command: "apply", pool_id: &work.pool_id, jobs: &[] };
            printer
                .data(&format!("{}\n", serde_json::to_string_pretty(&report).into_diagnostic()?))
                .into_diagnostic()?;
        }
        return Ok(ExitStatus::Success);
    }
    if let Some(max) = args.max_new
        && users > max
    {
        return Err(miette::miette!(
            help = "raise `--max-new`, or import in smaller steps",
            "refusing to import {}: `--max-new` is {max}",
            crate::output::plural(users as u64, "user", "users")
        ));
    }
    if !args.yes && settings.stdin_is_terminal && !confirm(users, &work.pool_id)? {
        printer.status("apply cancelled: nothing was imported");
        return Ok(ExitStatus::Failure);
    }

    let role = RoleIam::new(&config)
        .ensure(WantedRole { role: &work.role, region: &work.region, scoped_trust: work.scoped_trust })
        .await
        .map_err(|e| super::role::with_hints(e, &work.manifest, settings))?;
    if role.created {
        printer.status(format!("created the shared import role `{}`", role.arn));
    }

    let mut reports = Vec::new();
    let parts = work.files.len();
    for (index, file) in work.files.iter().enumerate() {
        let name = job_name(&work.plan_digest, index + 1, parts);
        let jobs = imports.list_jobs(&work.pool_id).await?;
        let same_name: Vec<Job> = jobs.into_iter().filter(|j| j.name == name).collect();
        let job = match next_step(&same_name) {
            NextStep::Create => {
                let job = imports
                    .create(&work.pool_id, &name, &role.arn, role.created, |why, delay| {
                        printer.status(format!("{why}: retrying in {}s", delay.as_secs()))
                    })
                    .await?;
                printer.status(format!("created import job `{}` (`{name}`)", job.id));
                // Another run of this plan may have created one at the same moment: both
                // runs follow the same job, and the other stays unused until it expires.
                let same_name: Vec<Job> =
                    imports.list_jobs(&work.pool_id).await?.into_iter().filter(|j| j.name == name).collect();
                match winner(&same_name) {
                    Some(first) if first.id != job.id => {
                        printer.status(format!(
                            "another run created import job `{}` for this plan first: following it; `{}` stays unused and expires",
                            first.id, job.id
                        ));
                        follow(&imports, &work.pool_id, first.clone(), file, printer).await?
                    }
                    _ => upload_and_start(&imports, &work.pool_id, job, file, printer).await?,
                }
            }
            NextStep::UploadAndStart(job) => {
                printer.status(format!("resuming import job `{}` (`{name}`): it was created but not started", job.id));
                upload_and_start(&imports, &work.pool_id, job, file, printer).await?
            }
            NextStep::Wait(job) => {
                printer.status(format!("resuming import job `{}` (`{name}`): it is {}", job.id, job.status));
                job
            }
            NextStep::Report(job) => {
                printer.status(format!(
                    "import job `{}` (`{name}`) for this plan already ran: reporting it, not importing again",
                    job.id
                ));
                job
            }
        };
        if args.no_wait && !job.status.is_finished() {
            printer.data(&format!("{}\n", job.id)).into_diagnostic()?;
            printer.status(format!(
                "import job `{}` is {}; follow it with `{}` again, which waits and reports",
                job.id,
                job.status,
                settings.suggest([Path::new("apply"), &args.input])
            ));
            continue;
        }
        let job = wait(&imports, &work.pool_id, job, Some(file.usernames.len() as u64), settings).await?;
        let (group, stream) = log_location(&work.pool_id, &work.pool_name, &job);
        let lines = imports.read_log(&group, &stream).await?;
        let (outcomes, header_counted) = user_outcomes(&lines, &file.usernames);
        if header_counted {
            printer.warn("the job log numbers lines from the CSV header; usernames were matched accordingly");
        }
        reports.push(JobReport {
            console_url: settings.log_console_url(&work.region, &group, &stream),
            log_group: group,
            log_stream: stream,
            users: outcomes.into_iter().filter(|o| o.outcome != Outcome::Succeeded).collect(),
            job,
        });
    }
    if args.no_wait {
        return Ok(ExitStatus::Success);
    }
    let failed = reports.iter().any(|r| r.job.failed > 0 || !matches!(r.job.status, JobStatus::Succeeded));
    let report = ApplyReport { schema_version: 1, command: "apply", pool_id: &work.pool_id, jobs: &reports };
    let rendered = match args.format {
        ReportFormat::Json => {
            let mut json = serde_json::to_string_pretty(&report).into_diagnostic()?;
            json.push('\n');
            json
        }
        ReportFormat::Text => render_report(&report, &settings.suggest([Path::new("role"), &work.manifest]), printer),
    };
    printer.data(&rendered).into_diagnostic()?;
    Ok(if failed { ExitStatus::Failure } else { ExitStatus::Success })
}

/// Follows a job another run created: gives that run time to upload and start it, then
/// takes over (the upload replaces the same bytes; a start that finds it started is fine).
async fn follow(
    imports: &CognitoImports,
    pool_id: &str,
    mut job: Job,
    file: &ImportFile,
    printer: &Printer,
) -> miette::Result<Job> {
    for _ in 0..30 {
        if job.status != JobStatus::Created {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        job = imports.describe(pool_id, &job.id).await?;
    }
    printer.status(format!("import job `{}` was not started by the run that created it: starting it", job.id));
    upload_and_start(imports, pool_id, job, file, printer).await
}

async fn upload_and_start(
    imports: &CognitoImports,
    pool_id: &str,
    job: Job,
    file: &ImportFile,
    printer: &Printer,
) -> miette::Result<Job> {
    let url =
        job.upload_url.clone().ok_or_else(|| miette::miette!("Cognito gave import job `{}` no upload URL", job.id))?;
    // The CSV holds personal data: a private file (0600), removed when this scope ends.
    let temp = private_temp_file(&file.bytes).into_diagnostic().wrap_err("failed to write the import CSV")?;
    let body = std::fs::read(temp.path()).into_diagnostic().wrap_err("failed to read the import CSV back")?;
    imports.upload(&url, body, &job.id).await?;
    drop(temp);
    printer.status(format!(
        "uploaded {} to import job `{}`",
        crate::output::plural(file.usernames.len() as u64, "user", "users"),
        job.id
    ));
    let job = imports
        .start(pool_id, &job.id, |why, delay| printer.status(format!("{why}: retrying in {}s", delay.as_secs())))
        .await?;
    printer.status(format!("started import job `{}`", job.id));
    Ok(job)
}

/// Polls the job until it finishes, with a progress display; backs off from 1 s to 5 s.
async fn wait(
    imports: &CognitoImports,
    pool_id: &str,
    mut job: Job,
    total: Option<u64>,
    settings: &Settings,
) -> miette::Result<Job> {
    let mut progress = Progress::counting(settings, total.map(|t| (t, "users")), &progress_message(&job));
    let mut delay = Duration::from_millis(500);
    while !job.status.is_finished() {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        job = imports.describe(pool_id, &job.id).await?;
        progress.update(job.imported + job.skipped + job.failed, &progress_message(&job));
    }
    progress.finish();
    Ok(job)
}

fn progress_message(job: &Job) -> String {
    format!("import job `{}`: {}", job.id, summary_line(job))
}

fn summary_line(job: &Job) -> String {
    format!("{}, {} imported, {} skipped, {} failed", job.status, job.imported, job.skipped, job.failed)
}

fn confirm(users: usize, pool_id: &str) -> miette::Result<bool> {
    let mut stderr = std::io::stderr().lock();
    write!(
        stderr,
        "Import {} into pool `{pool_id}`? Only `yes` proceeds: ",
        crate::output::plural(users as u64, "user", "users")
    )
    .into_diagnostic()?;
    stderr.flush().into_diagnostic()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).into_diagnostic()?;
    Ok(answer.trim() == "yes")
}

/// One job's outcome: its counts, and each user Cognito skipped or failed, with its reason.
#[derive(Debug, Serialize)]
struct JobReport {
    job: Job,
    log_group: String,
    log_stream: String,
    /// The AWS console's link to the log stream; null with a custom endpoint (an emulator).
    console_url: Option<String>,
    users: Vec<UserOutcome>,
}

/// The apply report; `--format json` prints it as is (`schema_version` 1).
#[derive(Debug, Serialize)]
struct ApplyReport<'a> {
    schema_version: u32,
    command: &'static str,
    pool_id: &'a str,
    jobs: &'a [JobReport],
}

fn render_report(report: &ApplyReport<'_>, role_command: &str, printer: &Printer) -> String {
    let paint = printer.stdout_paint;
    let mut out = String::new();
    for job_report in report.jobs {
        let job = &job_report.job;
        let total = job.imported + job.skipped + job.failed;
        out.push_str(&format!(
            "\nimport job `{}` (`{}`) {}: {} imported, {} skipped, {} failed of {total}\n",
            job.id,
            job.name,
            paint.paint(
                if job.status == JobStatus::Succeeded { Role::Create } else { Role::Error },
                &job.status.to_string()
            ),
            job.imported,
            job.skipped,
            job.failed,
        ));
        if let Some(message) = &job.completion_message {
            out.push_str(&format!("  Cognito says: {message}\n"));
        }
        for user in &job_report.users {
            let (marker, role, word) = match user.outcome {
                Outcome::Failed => ("!", Role::Error, "failed"),
                Outcome::Skipped => ("-", Role::Drift, "skipped"),
                Outcome::Succeeded => ("+", Role::Create, "imported"),
            };
            out.push_str(&format!("  {} {} {word}: {}\n", paint.paint(role, marker), user.username, user.reason));
        }
        if job.failed + job.skipped > 0 || job.status != JobStatus::Succeeded {
            out.push_str(&format!("  log: group `{}`, stream `{}`\n", job_report.log_group, job_report.log_stream));
            if let Some(url) = &job_report.console_url {
                out.push_str(&format!("  {url}\n"));
            }
        }
        if job.status == JobStatus::Failed && job.imported == 0 {
            out.push_str(
                &format!("  help: a job that fails as a whole often means Cognito could not use the import role; check it with `{role_command}` (with `import.scoped_trust: true`, try without the condition)\n"),
            );
        }
        if job.imported > 0 {
            out.push_str(&format!(
                "next: {} status RESET_REQUIRED: each must reset their password (\"Forgot password?\") before signing in; an administrator can instead set one with `aws cognito-idp admin-set-user-password --permanent`\n",
                if job.imported == 1 { "the imported user has".to_owned() } else { format!("the {} imported users have", job.imported) }
            ));
        }
    }
    out
}

/// A plan saved by `plan -o`: what `apply PLAN.json` imports, exactly.
#[derive(Debug, Deserialize)]
struct SavedPlan {
    schema_version: u32,
    manifest: SavedManifest,
    pool: SavedPool,
    to_import: Vec<SavedUser>,
    csv_header: Vec<String>,
    rows: Option<Vec<String>>,
    plan_digest: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    scoped_trust: bool,
}

#[derive(Debug, Deserialize)]
struct SavedManifest {
    path: String,
    digest: String,
}

#[derive(Debug, Deserialize)]
struct SavedPool {
    id: String,
    name: String,
    region: String,
}

#[derive(Debug, Deserialize)]
struct SavedUser {
    username: String,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
}

impl SavedPlan {
    /// The command that makes this plan again, for hints: the same manifest, pool and file.
    fn replan(&self, plan_path: &Path, settings: &Settings) -> String {
        let manifest_pool = load_valid(Path::new(&self.manifest.path)).ok().map(|m| m.pool_id);
        let mut words = vec!["plan".to_owned(), self.manifest.path.clone()];
        if manifest_pool.as_deref() != Some(self.pool.id.as_str()) {
            words.extend(["--pool-id".to_owned(), self.pool.id.clone()]);
        }
        words.extend(["-o".to_owned(), plan_path.display().to_string()]);
        settings.suggest(words)
    }

    fn read(path: &Path, settings: &Settings) -> miette::Result<Self> {
        let text = std::fs::read_to_string(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read the saved plan `{}`", path.display()))?;
        let plan: SavedPlan = serde_json::from_str(&text)
            .into_diagnostic()
            .wrap_err_with(|| format!("`{}` is not a plan saved by `cognito-sync plan -o`", path.display()))?;
        if plan.schema_version != crate::plan::report::SCHEMA_VERSION {
            miette::bail!("the saved plan has schema version {}; this build reads version 1", plan.schema_version);
        }
        let Some(rows) = &plan.rows else {
            miette::bail!(
                help = format!("save the plan again with `{}`", plan.replan(path, settings)),
                "the saved plan has no rows"
            );
        };
        // The digest covers the pool, the header and the rows: a changed file is refused.
        let digest = crate::plan::report::digest_of(&plan.pool.id, &plan.pool.region, &plan.csv_header, rows);
        if digest != plan.plan_digest {
            miette::bail!(
                help = format!("make it again with `{}`", plan.replan(path, settings)),
                "the saved plan `{}` was modified after it was made (its digest does not match)",
                path.display()
            );
        }
        Ok(plan)
    }

    /// Checks that the plan still holds, unless its job already exists (then it resumes).
    async fn into_work(
        self,
        jobs: &[Job],
        plan_path: &Path,
        settings: &Settings,
        max_rps: u32,
    ) -> miette::Result<Work> {
        let rows = self.rows.clone().unwrap_or_default();
        let usernames = self.to_import.iter().map(|u| u.username.clone());
        let files = crate::import_file::files_from_rows(&self.csv_header, rows.into_iter().zip(usernames));
        let ours = files.len();
        let resumable = (1..=ours).any(|part| {
            let name = job_name(&self.plan_digest, part, ours);
            jobs.iter().any(|j| j.name == name && !matches!(j.status, JobStatus::Expired))
        });
        if !resumable && !files.is_empty() {
            self.check_fresh(plan_path, settings, max_rps).await?;
        }
        let manifest_role = load_valid(Path::new(&self.manifest.path)).ok();
        Ok(Work {
            manifest: self.manifest.path.clone().into(),
            pool_id: self.pool.id,
            pool_name: self.pool.name,
            region: self.pool.region,
            plan_digest: self.plan_digest,
            files,
            role: self
                .role
                .or_else(|| manifest_role.as_ref().map(|m| m.role.clone()))
                .unwrap_or_else(|| crate::manifest::DEFAULT_ROLE_NAME.to_owned()),
            scoped_trust: self.scoped_trust || manifest_role.is_some_and(|m| m.scoped_trust),
        })
    }

    async fn check_fresh(&self, plan_path: &Path, settings: &Settings, max_rps: u32) -> miette::Result<()> {
        let manifest = Path::new(&self.manifest.path);
        let current = std::fs::read(manifest).into_diagnostic().wrap_err_with(|| {
            format!(
                "cannot read `{}`, the manifest this plan was made from, to check it is unchanged",
                manifest.display()
            )
        })?;
        if crate::manifest::validate::digest(&current) != self.manifest.digest {
            miette::bail!(
                help = format!("make a new plan with `{}` and review it", self.replan(plan_path, settings)),
                "the saved plan is stale: `{}` changed since the plan was made",
                manifest.display()
            );
        }
        let wanted = crate::pool::Wanted {
            users: self
                .to_import
                .iter()
                .map(|u| crate::pool::WantedUser {
                    username: u.username.clone(),
                    sign_in: ["email", "phone_number"]
                        .iter()
                        .filter_map(|a| u.attributes.get(*a).map(|v| ((*a).to_owned(), v.clone())))
                        .collect(),
                    groups: Vec::new(),
                })
                .collect(),
            attributes: ["email", "phone_number"].iter().map(|a| (*a).to_owned()).collect(),
            groups: Default::default(),
        };
        let existing =
            super::plan::existing_users(&self.pool.id, &self.pool.region, &wanted, settings, max_rps).await?;
        if !existing.is_empty() {
            let shown: Vec<String> = existing.iter().take(5).map(|u| format!("`{u}`")).collect();
            miette::bail!(
                help = format!("make a new plan with `{}` and review it", self.replan(plan_path, settings)),
                "the saved plan is stale: {} in pool `{}` ({}{})",
                if existing.len() == 1 {
                    "1 planned user now exists".to_owned()
                } else {
                    format!("{} planned users now exist", existing.len())
                },
                self.pool.id,
                shown.join(", "),
                if existing.len() > 5 { ", ..." } else { "" }
            );
        }
        Ok(())
    }
}
