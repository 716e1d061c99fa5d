//! `apply`: read the plan (fresh from the manifest, or saved), show it, confirm, then run
//! the workflow of [`crate::apply`] and render its events and report. The workflow itself
//! (limits, resume, re-check, wait, verify, then the second phase: groups, enabled state,
//! memberships) lives in `src/apply/`; this file parses, asks and prints.

use std::cell::RefCell;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;
use serde::Serialize;

use super::validate::{load_manifest, load_valid};
use crate::apply::adapters::{PoolChanges, PoolImports, PoolUsers, SharedRole};
use crate::apply::{Event, JobReport, Limits, Outcome, Part, Pause, PhaseReport, PlannedUser, State, Verified, Work};
use crate::cli::{ApplyArgs, ReportFormat};
use crate::error::ExitStatus;
use crate::import::aws::CognitoImports;
use crate::import::{Job, JobStatus, Outcome as RowOutcome};
use crate::output::progress::Progress;
use crate::output::{Paint, Printer, Role};
use crate::password_hashes::HashFile;
use crate::plan::render::{RenderOptions, text};
use crate::plan::saved::SavedPlan;
use crate::pool::aws::CognitoPool;
use crate::role::aws::RoleIam;
use crate::settings::Settings;

pub fn run(args: &ApplyArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let saved = args.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    // Offline first: an invalid manifest or a changed plan file sends nothing.
    let source = if saved {
        Source::Saved(Box::new(SavedPlan::read(&args.input).map_err(|report| {
            with_help(report, format!("make it again with `{}`", replan_any(&args.input, settings)))
        })?))
    } else {
        Source::Manifest(Box::new(load_manifest(&args.input, settings)?))
    };
    let manifest = match &source {
        Source::Manifest(_) => args.input.clone(),
        Source::Saved(plan) => plan.manifest.path.clone().into(),
    };
    // The password hashes of a migration (SPEC §9), offline too: checked against the
    // manifest's users, or against the digest a saved plan recorded.
    let hashes = match &source {
        Source::Manifest(valid) => super::plan::load_hashes(args.password_hashes.as_deref(), valid, printer)?,
        Source::Saved(plan) => saved_hashes(plan, args.password_hashes.as_deref(), printer)?,
    };
    // Like Terraform: with no terminal to ask on, only `--yes` proceeds.
    if !args.yes && !settings.stdin_is_terminal {
        miette::bail!(
            help =
                "pass `--yes` (or `--auto-approve`) to apply without a prompt, as CI does after the plan was reviewed",
            "no terminal to ask for confirmation on, and no `--yes`"
        );
    }
    super::block_on(apply(args, source, hashes, &manifest, settings, printer))
        .map_err(|report| runnable_hints(report, args, &manifest, settings))
}

/// The adapters' hints name commands without this run's paths and flags
/// ("run `cognito-sync apply` again"): this completes them so that they run when pasted.
fn runnable_hints(report: miette::Report, args: &ApplyArgs, manifest: &Path, settings: &Settings) -> miette::Report {
    let report = match report.downcast::<crate::role::RoleError>() {
        Ok(error) => return super::role::with_hints(error, manifest, settings),
        Err(report) => report,
    };
    let complete = |help: &str| {
        help.replace("`cognito-sync apply`", &format!("`{}`", settings.suggest([Path::new("apply"), &args.input])))
            .replace("`cognito-sync role`", &format!("`{}`", settings.suggest([Path::new("role"), manifest])))
    };
    let mut report = report;
    if let Some(error) = report.downcast_mut::<crate::import::aws::ImportError>() {
        if let Some(help) = &mut error.help {
            *help = complete(help);
        }
        return report;
    }
    // Any other error of the workflow (a plain message and help) gets the same completion.
    let help = report.help().map(|h| h.to_string());
    match help {
        Some(help) if complete(&help) != help => with_help(report, complete(&help)),
        _ => report,
    }
}

/// `report` with `help` instead of its own.
fn with_help(report: miette::Report, help: String) -> miette::Report {
    miette::miette!(help = help, "{report}")
}

/// The command that makes a saved plan again, for hints: the same manifest, pool and file.
/// The manifest is read only to word the hint (does it name the plan's pool?).
fn replan(saved: &SavedPlan, plan_path: &Path, settings: &Settings) -> String {
    let manifest_pool = load_valid(Path::new(&saved.manifest.path)).ok().map(|m| m.pool_id);
    let mut words = vec!["plan".to_owned(), saved.manifest.path.clone()];
    if manifest_pool.as_deref() != Some(saved.pool.id.as_str()) {
        words.extend(["--pool-id".to_owned(), saved.pool.id.clone()]);
    }
    words.extend(["-o".to_owned(), plan_path.display().to_string()]);
    settings.suggest(words)
}

/// [`replan`] for a file that could not be read as a plan: its manifest path if it has one.
fn replan_any(plan_path: &Path, settings: &Settings) -> String {
    let manifest = std::fs::read_to_string(plan_path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["manifest"]["path"].as_str().map(str::to_owned))
        .unwrap_or_else(|| crate::manifest::DEFAULT_MANIFEST.to_owned());
    settings.suggest(["plan".to_owned(), manifest, "-o".to_owned(), plan_path.display().to_string()])
}

enum Source {
    Manifest(Box<crate::manifest::ValidManifest>),
    Saved(Box<SavedPlan>),
}

async fn apply(
    args: &ApplyArgs,
    source: Source,
    hashes: Option<HashFile>,
    manifest: &Path,
    settings: &Settings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let (pool_id, region) = match &source {
        Source::Manifest(manifest) => super::pool_target(manifest, settings),
        Source::Saved(plan) => (plan.pool.id.clone(), plan.pool.region.clone()),
    };
    let config = crate::aws::sdk_config(&settings.aws, Some(&region)).await;
    let pool_name = match &source {
        Source::Saved(plan) => plan.pool.name.clone(),
        Source::Manifest(_) => String::new(),
    };
    let mut imports = PoolImports { imports: CognitoImports::new(&config), pool_id: pool_id.clone(), pool_name };
    let pacer = super::pacer(settings);
    let renderer = RefCell::new(Renderer::new(settings, printer, pool_id.clone(), args.input.clone()));
    let mut on_event = |event: Event| renderer.borrow_mut().event(event);

    // Cognito runs one import job at a time per account and region: let a running one
    // finish first, so that the plan below sees what it imported.
    if let Some(active) = crate::apply::wait_for_active(&imports, args.no_wait, &mut on_event).await? {
        printer.status(format!(
            "import job `{}` (`{}`) is {} in pool `{pool_id}`; run `{}` again when it has finished",
            active.id,
            active.name,
            active.status,
            settings.suggest([Path::new("apply"), &args.input])
        ));
        return Ok(ExitStatus::Failure);
    }

    let work = match source {
        Source::Manifest(manifest) => {
            let mut plan = super::plan::read_plan(&manifest, settings, &pacer, crate::cli::ReadChoice::Auto).await?;
            if let Some(hashes) = &hashes {
                plan.attach_hashes(hashes);
            }
            let files = plan.upload_files(hashes.as_ref()).map_err(|users| super::plan::too_long_with_hash(&users))?;
            if args.format == ReportFormat::Text {
                let rendered = text(&plan, RenderOptions { show_pii: args.show_pii, paint: printer.stdout_paint });
                printer.data(&rendered).into_diagnostic()?;
            }
            let rows = plan.rows();
            let post_import = crate::changes::Target::from_plan(&plan).to_post_import();
            Work {
                plan_digest: crate::plan::saved::plan_digest(&plan, &rows),
                pool_id: plan.pool.id.clone(),
                pool_name: plan.pool.name.clone(),
                region: plan.pool.region.clone(),
                role: plan.role.clone(),
                scoped_trust: plan.scoped_trust,
                users: plan
                    .to_import
                    .iter()
                    .map(|u| PlannedUser { username: u.username.clone(), attributes: u.attributes.clone() })
                    .collect(),
                parts: parts(files),
                post_import,
            }
        }
        Source::Saved(saved) => {
            let again = replan(&saved, &args.input, settings);
            let work = saved_work(*saved, hashes.as_ref())?;
            check_fresh(&work, &imports, &again, settings, &pacer).await?;
            work
        }
    };
    imports.pool_name.clone_from(&work.pool_name);

    let users = work.user_count();
    let second = work.second_phase();
    // Before any request that changes the pool.
    Limits { max_new: args.max_new, max_changes: args.max_changes }.check(&work)?;
    if users == 0 {
        if second.is_empty() {
            printer.status("nothing to import: every declared user is in the pool");
        } else if !args.yes && !confirm(&format!("Apply these changes to pool `{}`?", work.pool_id))? {
            printer.status("apply cancelled: nothing was changed");
            return Ok(ExitStatus::Failure);
        }
    } else {
        // The question names everything that will happen: the import, and the second phase
        // (groups, memberships, enabled state) when the plan has one.
        let question = format!(
            "Import {}{} into pool `{}`?",
            crate::output::plural(users as u64, "user", "users"),
            if second.is_empty() { "" } else { " and apply the changes above" },
            work.pool_id
        );
        if !args.yes && !confirm(&question)? {
            printer.status("apply cancelled: nothing was imported");
            return Ok(ExitStatus::Failure);
        }
    }

    let connect = || CognitoPool::connect(&settings.aws, &work.pool_id, &work.region, std::sync::Arc::clone(&pacer));
    let pool = connect().await?;
    // The second phase reads memberships as `plan` does (`COGNITO_SYNC_READ_GROUPS`), and
    // counts its own requests for `-v`.
    let changes = PoolChanges { pool: connect().await?.force_membership_strategy(super::plan::forced_memberships()) };
    let outcome = crate::apply::run(
        &work,
        args.no_wait,
        &imports,
        &PoolUsers { pool },
        &SharedRole {
            iam: RoleIam::new(&config),
            role: work.role.clone(),
            region: work.region.clone(),
            scoped_trust: work.scoped_trust,
        },
        &changes,
        &mut on_event,
    )
    .await;
    renderer.borrow_mut().finish();
    let mut outcome = outcome?;
    for report in &mut outcome.jobs {
        report.console_url = settings.log_console_url(&work.region, &report.log_group, &report.log_stream);
    }
    // A job left running (`--no-wait`): its id is on stdout already, nothing to report.
    let Some(phase) = &outcome.second_phase else { return Ok(ExitStatus::Success) };
    let rendered = match args.format {
        ReportFormat::Json => json_report(&work.pool_id, &outcome, phase)?,
        // Nothing imported: the second phase is the whole report.
        ReportFormat::Text if users == 0 => render_phase(phase, printer.stdout_paint),
        ReportFormat::Text => {
            let mut text = render_report(
                &outcome,
                &settings.suggest([Path::new("role"), manifest]),
                &settings.suggest([Path::new("apply"), manifest]),
                printer,
            );
            text.push_str(&render_phase(phase, printer.stdout_paint));
            text
        }
    };
    printer.data(&rendered).into_diagnostic()?;
    Ok(if outcome.success() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// The work of a saved plan, exactly as saved: nothing is read from the manifest.
fn saved_work(saved: SavedPlan, hashes: Option<&HashFile>) -> miette::Result<Work> {
    let rows = saved.rows().to_vec();
    let usernames = saved.to_import.iter().map(|u| u.username.clone());
    let mut files = crate::import_file::files_from_rows(&saved.csv_header, rows.into_iter().zip(usernames));
    if let Some(hashes) = hashes {
        files = crate::import_file::with_hashes(&saved.csv_header, &files, hashes)
            .map_err(|users| super::plan::too_long_with_hash(&users))?;
    }
    Ok(Work {
        pool_id: saved.pool.id,
        pool_name: saved.pool.name,
        region: saved.pool.region,
        role: saved.role,
        scoped_trust: saved.scoped_trust,
        plan_digest: saved.plan_digest,
        users: saved
            .to_import
            .into_iter()
            .map(|u| PlannedUser { username: u.username, attributes: u.attributes })
            .collect(),
        parts: parts(files),
        post_import: saved.post_import,
    })
}

/// One part per import file; a file with a `password_hash` column is a job of its algorithm.
fn parts(files: Vec<crate::import_file::ImportFile>) -> Vec<Part> {
    files.into_iter().map(|file| Part { hash_algorithm: file.algorithm.map(|a| a.name().to_owned()), file }).collect()
}

/// The hash file of a saved plan made with one: `--password-hashes`, else the path the plan
/// names, refused unless byte for byte the file the plan was made with (its digest). A plan
/// made without one takes none.
fn saved_hashes(saved: &SavedPlan, given: Option<&Path>, printer: &Printer) -> miette::Result<Option<HashFile>> {
    let Some(recorded) = &saved.password_hashes else {
        if let Some(path) = given {
            miette::bail!(
                help = "make the plan with the hash file: `cognito-sync plan --password-hashes FILE -o PLAN.json`",
                "the saved plan was made without password hashes, so `{}` cannot be used with it",
                path.display()
            );
        }
        return Ok(None);
    };
    let path = given.unwrap_or_else(|| Path::new(&recorded.path));
    let raw = crate::password_hashes::read(path)?;
    if let Some(warning) = crate::password_hashes::permission_warning(&raw) {
        printer.warn(warning);
    }
    let hashes = crate::password_hashes::parse(&raw, None)?;
    if hashes.digest != recorded.digest {
        miette::bail!(
            help = "run `cognito-sync plan --password-hashes FILE -o PLAN.json` again and review the new plan",
            "the password-hash file `{}` changed since the plan was made (its digest does not match the plan's)",
            path.display()
        );
    }
    Ok(Some(hashes))
}

/// A saved plan is stale when planned users now exist, unless a job of this plan exists
/// already (then the run resumes it).
async fn check_fresh(
    work: &Work,
    imports: &PoolImports,
    replan: &str,
    settings: &Settings,
    pacer: &std::sync::Arc<crate::pace::Pacer>,
) -> miette::Result<()> {
    if work.users.is_empty() {
        return Ok(());
    }
    let jobs = crate::apply::Imports::list_jobs(imports).await?;
    let names: Vec<String> =
        (1..=work.parts.len()).map(|part| crate::import::job_name(&work.plan_digest, part, work.parts.len())).collect();
    if jobs.iter().any(|j| names.contains(&j.name) && j.status != JobStatus::Expired) {
        return Ok(());
    }
    let pool = CognitoPool::connect(&settings.aws, &work.pool_id, &work.region, std::sync::Arc::clone(pacer)).await?;
    let existing = crate::apply::Users::find(&PoolUsers { pool }, &work.users).await?;
    if !existing.is_empty() {
        let shown: Vec<String> = existing.iter().take(5).map(|(u, _)| format!("`{u}`")).collect();
        miette::bail!(
            help = format!("make a new plan with `{replan}` and review it"),
            "the saved plan is stale: {} in pool `{}` ({}{})",
            if existing.len() == 1 {
                "1 planned user now exists".to_owned()
            } else {
                format!("{} planned users now exist", existing.len())
            },
            work.pool_id,
            shown.join(", "),
            if existing.len() > 5 { ", ..." } else { "" }
        );
    }
    Ok(())
}

/// Asks `question` on the terminal; only the answer `yes` proceeds (as Terraform asks).
fn confirm(question: &str) -> miette::Result<bool> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} Only `yes` proceeds: ").into_diagnostic()?;
    stderr.flush().into_diagnostic()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).into_diagnostic()?;
    Ok(answer.trim() == "yes")
}

/// Renders the workflow's events on stderr, with a progress display while a job runs.
struct Renderer<'a> {
    settings: &'a Settings,
    printer: &'a Printer,
    progress: Option<Progress>,
    pool_id: String,
    input: PathBuf,
    /// The job of another plan being waited for.
    other: Option<String>,
}

impl<'a> Renderer<'a> {
    fn new(settings: &'a Settings, printer: &'a Printer, pool_id: String, input: PathBuf) -> Self {
        Renderer { settings, printer, progress: None, pool_id, input, other: None }
    }

    fn finish(&mut self) {
        if let Some(mut progress) = self.progress.take() {
            progress.finish();
        }
    }

    fn event(&mut self, event: Event) {
        let printer = self.printer;
        match event {
            Event::WaitingBeforePlan(job) => {
                self.other = Some(job.id.clone());
                printer.status(format!(
                    "import job `{}` (`{}`) is already {} in pool `{}`: waiting for it to finish first",
                    job.id, job.name, job.status, self.pool_id
                ))
            }
            Event::RoleCreated { arn } => printer.status(format!("created the shared import role `{arn}`")),
            Event::Retrying { why, delay } => printer.status(format!("{why}: retrying in {}s", delay.as_secs())),
            Event::Resuming { job } => printer.status(format!(
                "resuming import job `{}` (`{}`) of this plan: it is {}",
                job.id, job.name, job.status
            )),
            Event::Reporting(job) => printer.status(format!(
                "import job `{}` (`{}`) of this plan already ran: reporting it, not importing again",
                job.id, job.name
            )),
            Event::Created(job) => printer.status(format!("created import job `{}` (`{}`)", job.id, job.name)),
            Event::Following { job } => printer.status(format!(
                "another run created import job `{}` for this plan first: following it",
                job.id
            )),
            Event::Dropped { usernames } => printer.status(format!(
                "{} in the pool now, so their rows are not uploaded: {}",
                crate::output::plural(usernames.len() as u64, "planned user is", "planned users are"),
                list(&usernames)
            )),
            Event::NothingLeft => {
                printer.status("every planned user of this import file is in the pool now: no job needed")
            }
            Event::Uploaded { job, users } => printer.status(format!(
                "uploaded {} to import job `{}`",
                crate::output::plural(users as u64, "user", "users"),
                job.id
            )),
            Event::Started(job) => printer.status(format!("started import job `{}`", job.id)),
            Event::WaitingForOther { job } => printer.status(format!(
                "another import job, `{}` (`{}`), is {}; Cognito runs one at a time per account and region: waiting for it",
                job.id, job.name, job.status
            )),
            Event::Paused { why, delay } => printer.status(match why {
                Pause::UploadNotVisible => format!(
                    "Cognito refused to start the job, and no other job runs in this pool: the upload may not be visible yet, or a job runs in another pool of this account and region; retrying in {}s",
                    delay.as_secs()
                ),
                Pause::SlotTaken => format!(
                    "Cognito refused to start the job, and no other job runs in this pool: one may run in another pool of this account and region; retrying in {}s",
                    delay.as_secs()
                ),
            }),
            Event::Waiting { job, rows } => {
                self.finish();
                self.progress = Some(Progress::counting(self.settings, rows.map(|t| (t, "users")), &progress_message(&job)));
            }
            Event::Progress(job) => {
                if let Some(progress) = &mut self.progress {
                    progress.update(job.imported + job.skipped + job.failed, &progress_message(&job));
                }
            }
            Event::Finished(job) => {
                self.finish();
                printer.status(format!("import job `{}` ended {}", job.id, summary_line(&job)));
                if self.other.as_deref() == Some(job.id.as_str()) && job.failed + job.skipped > 0 {
                    printer.status(format!(
                        "its skipped and failed rows, with Cognito's reasons: `{}`",
                        self.settings.suggest(["jobs", "--pool-id", &self.pool_id, &job.id])
                    ));
                }
            }
            Event::LeftRunning(job) => {
                // The job id on stdout, for scripts.
                printer.data(&format!("{}\n", job.id)).ok();
                printer.status(format!(
                    "import job `{}` is {}; follow it with `{}` again, which waits and reports",
                    job.id,
                    job.status,
                    self.settings.suggest([Path::new("apply"), &self.input])
                ));
            }
            Event::Verifying { users } => {
                printer.status(format!(
                    "reading {} back from the pool",
                    crate::output::plural(users as u64, "planned user", "planned users")
                ))
            }
            Event::ReadingPool => {
                self.finish();
                self.progress = Some(Progress::new(self.settings, None, &super::plan::reading(&self.pool_id)));
            }
            Event::ReadingPoolProgress(step) => {
                if let Some(progress) = &mut self.progress {
                    progress.update(step.done, &super::plan::reading_step(&self.pool_id, step));
                }
            }
            Event::ReadPool { requests } => {
                self.finish();
                printer.detail(super::plan::read_with(&self.pool_id, &requests));
            }
            Event::Changing { changes } => {
                printer.status(format!(
                    "second phase: {} in pool `{}` (groups, enabled state, memberships)",
                    crate::output::plural(changes as u64, "change", "changes"),
                    self.pool_id
                ));
                self.finish();
                self.progress = Some(Progress::new(self.settings, Some(changes as u64), "second phase"));
            }
            Event::Changed { done, total, failed } => {
                if let Some(progress) = &mut self.progress {
                    progress.update(done as u64, &format!("second phase: {done}/{total} changes, {failed} failed"));
                }
            }
            Event::ChangesSent => self.finish(),
        }
    }
}

fn list(usernames: &[String]) -> String {
    let shown: Vec<String> = usernames.iter().take(10).map(|u| format!("`{u}`")).collect();
    let more = usernames.len().saturating_sub(10);
    if more > 0 { format!("{}, and {more} more", shown.join(", ")) } else { shown.join(", ") }
}

fn progress_message(job: &Job) -> String {
    format!("import job `{}`: {}", job.id, summary_line(job))
}

fn summary_line(job: &Job) -> String {
    format!("{}, {} imported, {} skipped, {} failed", job.status, job.imported, job.skipped, job.failed)
}

/// The apply report; `--format json` prints it as is (`schema_version` 1).
///
/// `jobs[]`: each job this run ran or reported, with its log location and the users the log
/// says were skipped or failed (where the line mapping holds). `users[]`: every planned user
/// read back from the pool: `state` is `present`, `created_elsewhere` (with `reason` and
/// `drift[]` {`attribute`, `set_in_pool`}), `missing` (with `reason`: Cognito's, or
/// "missing after the job") or `mfa_not_enabled` (imported, but its `mfa_enabled: true` left
/// no MFA method enabled; `reason` says how to enable it). `summary` counts them; the exit
/// status is 0 iff none is missing or without its MFA.
#[derive(Debug, Serialize)]
struct ApplyReport<'a> {
    schema_version: u32,
    command: &'static str,
    pool_id: &'a str,
    jobs: &'a [JobReport],
    summary: Summary,
    users: &'a [Verified],
    /// Groups, enabled state and memberships after the import (SPEC §8).
    second_phase: &'a PhaseReport,
}

#[derive(Debug, Serialize)]
struct Summary {
    planned: usize,
    present: usize,
    created_elsewhere: usize,
    missing: usize,
    /// Imported without the MFA their row declared (see `apply::mfa`).
    mfa_not_enabled: usize,
}

fn summary(verified: &[Verified]) -> Summary {
    let count = |state: State| verified.iter().filter(|v| v.state == state).count();
    Summary {
        planned: verified.len(),
        present: count(State::Present),
        created_elsewhere: count(State::CreatedElsewhere),
        missing: count(State::Missing),
        mfa_not_enabled: count(State::MfaNotEnabled),
    }
}

fn json_report(pool_id: &str, outcome: &Outcome, second_phase: &PhaseReport) -> miette::Result<String> {
    let verified = outcome.verified.as_deref().unwrap_or_default();
    let report = ApplyReport {
        schema_version: 1,
        command: "apply",
        pool_id,
        jobs: &outcome.jobs,
        summary: summary(verified),
        users: verified,
        second_phase,
    };
    let mut json = serde_json::to_string_pretty(&report).into_diagnostic()?;
    json.push('\n');
    Ok(json)
}

/// The report as text: one line per change and per missing user.
fn render_phase(report: &PhaseReport, paint: Paint) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if report.pending == 0 && report.missing_users.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{} {} done, {} failed",
        paint.paint(Role::Strong, "Second phase:"),
        report.done,
        report.failed
    );
    for change in &report.changes {
        match &change.error {
            None => {
                let _ = writeln!(out, "  {} {}", paint.paint(Role::Create, "ok"), change.change);
            }
            Some(error) => {
                let _ = writeln!(out, "  {} {}: {error}", paint.paint(Role::Error, "failed"), change.change);
            }
        }
    }
    for user in &report.missing_users {
        let _ = writeln!(
            out,
            "  {} `{user}` is not in the pool (its import failed): no group or state change was sent",
            paint.paint(Role::Error, "missing")
        );
    }
    if report.failed > 0 {
        let _ = writeln!(out, "run `apply` again to retry the failed changes: the ones done are not sent twice");
    }
    out
}

fn render_report(outcome: &Outcome, role_command: &str, apply_command: &str, printer: &Printer) -> String {
    let paint = printer.stdout_paint;
    let mut out = String::new();
    for job_report in &outcome.jobs {
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
        if let Some(algorithm) = &job.password_hashing_algorithm {
            out.push_str(&format!("  password hashes: {algorithm}\n"));
        }
        for user in &job_report.users {
            let (marker, role, word) = match user.outcome {
                RowOutcome::Failed => ("!", Role::Error, "failed"),
                RowOutcome::Skipped => ("-", Role::Drift, "skipped"),
                RowOutcome::Succeeded => ("+", Role::Create, "imported"),
            };
            out.push_str(&format!("  {} {} {word}: {}\n", paint.paint(role, marker), user.username, user.reason));
        }
        if job.failed + job.skipped > 0 || job.status != JobStatus::Succeeded {
            out.push_str(&format!("  log: group `{}`, stream `{}`\n", job_report.log_group, job_report.log_stream));
            if let Some(url) = &job_report.console_url {
                out.push_str(&format!("  {url}\n"));
            }
        }
        // Only a job that failed as a whole, with no row reasons at all, points at the role.
        if job.status == JobStatus::Failed && total == 0 {
            out.push_str(&format!(
                "  help: a job that fails before any row often means Cognito could not use the import role; check it with `{role_command}` (with `import.scoped_trust: true`, try without the condition)\n"
            ));
        }
    }
    let Some(verified) = &outcome.verified else { return out };
    let s = summary(verified);
    out.push_str(&format!(
        "\nread back from the pool: {} of {} planned users present ({} created elsewhere meanwhile), {} missing{}\n",
        s.present + s.created_elsewhere + s.mfa_not_enabled,
        s.planned,
        s.created_elsewhere,
        s.missing,
        match s.mfa_not_enabled {
            0 => String::new(),
            n => format!(", {n} without the MFA the manifest declares"),
        }
    ));
    for user in verified {
        match user.state {
            State::Present => {}
            State::CreatedElsewhere => {
                let drift = if user.drift.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; differs from the plan in {}",
                        user.drift.iter().map(|d| format!("`{}`", d.attribute)).collect::<Vec<_>>().join(", ")
                    )
                };
                out.push_str(&format!(
                    "  {} {} created elsewhere meanwhile: {}{drift}\n",
                    paint.paint(Role::Drift, "~"),
                    user.username,
                    user.reason.as_deref().unwrap_or_default()
                ));
            }
            State::Missing => out.push_str(&format!(
                "  {} {} missing: {}; `{apply_command}` retries it\n",
                paint.paint(Role::Error, "!"),
                user.username,
                user.reason.as_deref().unwrap_or_default()
            )),
            State::MfaNotEnabled => out.push_str(&format!(
                "  {} {} imported without MFA: {}\n",
                paint.paint(Role::Error, "!"),
                user.username,
                user.reason.as_deref().unwrap_or_default()
            )),
        }
    }
    // SPEC §9: who signs in with their old password, and who must reset, as the pool says.
    let with_status = |status: &str| -> Vec<String> {
        verified
            .iter()
            .filter(|v| v.state == State::Present && v.status.as_deref() == Some(status))
            .map(|v| v.username.clone())
            .collect()
    };
    let hash_jobs = outcome.jobs.iter().any(|j| j.job.password_hashing_algorithm.is_some());
    let confirmed = with_status("CONFIRMED");
    if hash_jobs || !confirmed.is_empty() {
        if !confirmed.is_empty() {
            out.push_str(&format!(
                "{} {} imported with a password hash, status CONFIRMED: {} in with their old password now: {}\n",
                paint.paint(Role::Create, "+"),
                crate::output::plural(confirmed.len() as u64, "user", "users"),
                if confirmed.len() == 1 { "signs" } else { "sign" },
                list(&confirmed)
            ));
        }
        let reset = with_status("RESET_REQUIRED");
        if !reset.is_empty() {
            out.push_str(&format!(
                "next: {} without a password hash, status RESET_REQUIRED: {}; each must reset their password (\"Forgot password?\") before signing in; an administrator can instead set one with `aws cognito-idp admin-set-user-password --permanent`\n",
                crate::output::plural(reset.len() as u64, "user", "users"),
                list(&reset)
            ));
        }
        return out;
    }
    let imported: u64 = outcome.jobs.iter().map(|j| j.job.imported).sum();
    if imported > 0 {
        out.push_str(&format!(
            "next: {} status RESET_REQUIRED: each must reset their password (\"Forgot password?\") before signing in; an administrator can instead set one with `aws cognito-idp admin-set-user-password --permanent`\n",
            if imported == 1 { "the imported user has".to_owned() } else { format!("the {imported} imported users have") }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::settings::Environment;

    // See: #15. A workflow error's hint names this run's manifest and AWS flags.
    #[test]
    fn hints_of_the_workflow_run_when_pasted() {
        let cli = Cli::try_parse_from(["cognito-sync", "apply", "team.yaml", "--endpoint-url", "http://127.0.0.1:1"])
            .unwrap();
        let settings = Settings::resolve(&cli.global, &Environment::default());
        let Command::Apply(args) = cli.command else { panic!("apply") };
        let report = miette::miette!(help = "run `cognito-sync apply` again later: it resumes this job", "stuck");
        let report = runnable_hints(report, &args, Path::new("team.yaml"), &settings);
        assert_eq!(
            report.help().unwrap().to_string(),
            "run `cognito-sync apply team.yaml --endpoint-url http://127.0.0.1:1` again later: it resumes this job"
        );
    }
}
