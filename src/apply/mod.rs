//! The apply workflow (SPEC §6): from a reviewed plan to users in the pool, judged by the
//! pool read back.
//!
//! - [`machine`]: the pure step machine (what to do next from what was seen), unit-tested
//!   without a runtime;
//! - [`verify`]: the pure read-back verdict and the log's line mapping;
//! - [`second_phase`]: groups, enabled state and memberships (SPEC §8) after the import's
//!   read-back, through the [`Changes`] trait;
//! - [`run`]: the workflow: the one async loop that performs the machine's steps through
//!   three small traits ([`Imports`], [`Users`], [`Roles`]), then the second phase; Cognito's
//!   adapters are in [`adapters`]. It reports what happens as [`Event`]s, which
//!   `commands::apply` renders (text, JSON, progress).
//!
//! Where later work goes: a part ([`Part`]) can carry a password-hash algorithm, so
//! per-algorithm jobs are more parts; the second phase runs after [`Step::Verify`], from
//! [`Work::post_import`] (covered by the saved plan's digest, `plan::saved`), against the
//! users read back.

pub mod adapters;
pub mod limits;
pub mod machine;
pub mod mfa;
pub mod second_phase;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::import::aws::{ImportError, UPLOAD_URL_EXPIRED};
use crate::import::{Job, LogLine, UserOutcome, log_console_url, log_location};
use crate::import_file::ImportFile;
use crate::plan::AttributeDrift;
use crate::plan::saved::PostImportChange;
use crate::pool::RemoteUser;
pub use limits::Limits;
pub use machine::{Machine, PartPlan, Pause, Seen, Step, Stuck};
pub use second_phase::{ChangeResult, Changes, PhaseReport};
pub use verify::{Numbering, PlannedUser, State, Verified};

/// What to apply: from a fresh plan or a saved one, exactly.
#[derive(Debug, Clone)]
pub struct Work {
    pub pool_id: String,
    pub pool_name: String,
    pub region: String,
    /// `import.role`: a name or an ARN.
    pub role: String,
    pub scoped_trust: bool,
    pub plan_digest: String,
    /// Every user to import, in plan order.
    pub users: Vec<PlannedUser>,
    /// The import files, one job each.
    pub parts: Vec<Part>,
    /// Changes to make after the import (SPEC §8): groups, enabled state, memberships.
    pub post_import: Vec<PostImportChange>,
}

/// One import file and how its job is made.
#[derive(Debug, Clone)]
pub struct Part {
    pub file: ImportFile,
    /// The job's password-hash algorithm; `None`: users without a hash.
    pub hash_algorithm: Option<String>,
}

impl Work {
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    fn part_plans(&self) -> Vec<PartPlan> {
        let files: Vec<Vec<String>> = self.parts.iter().map(|p| p.file.usernames.clone()).collect();
        let mut plans = PartPlan::for_plan(&self.plan_digest, &files);
        for (plan, part) in plans.iter_mut().zip(&self.parts) {
            plan.hash_algorithm.clone_from(&part.hash_algorithm);
        }
        plans
    }
}

/// The bytes to upload: the file's header and the rows of `keep`, in file order.
pub fn file_for(file: &ImportFile, keep: &[String]) -> Vec<u8> {
    let keep: BTreeSet<&str> = keep.iter().map(String::as_str).collect();
    let text = String::from_utf8_lossy(&file.bytes);
    let mut lines = text.split_inclusive('\n');
    let mut out = Vec::with_capacity(file.bytes.len());
    if let Some(header) = lines.next() {
        out.extend_from_slice(header.as_bytes());
    }
    for (line, username) in lines.zip(&file.usernames) {
        if keep.contains(username.as_str()) {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

/// Import-job operations on the plan's pool.
#[allow(async_fn_in_trait)]
pub trait Imports {
    /// Every job of the pool, newest first.
    async fn list_jobs(&self) -> Result<Vec<Job>, ImportError>;
    async fn describe(&self, job_id: &str) -> Result<Job, ImportError>;
    /// Creates a job; retries IAM propagation itself, telling `on_retry`.
    /// `algorithm`: the job's `PasswordHashingAlgorithm` (a part of hash users, SPEC §9).
    async fn create(
        &self,
        name: &str,
        role_arn: &str,
        algorithm: Option<&str>,
        on_retry: &mut dyn FnMut(String, Duration),
    ) -> Created;
    async fn upload(&self, job: &Job, body: Vec<u8>) -> Result<(), ImportError>;
    async fn start(&self, job_id: &str) -> Result<Job, ImportError>;
    async fn read_log(&self, job: &Job) -> Result<Vec<LogLine>, ImportError>;
}

/// What create answered.
pub enum Created {
    Job(Job),
    /// LimitExceededException: another job active, or the pool's job quota.
    Refused(ImportError),
    Failed(ImportError),
}

/// Reads planned users back from the pool.
#[allow(async_fn_in_trait)]
pub trait Users {
    /// The `users` found in the pool, by planned username, with their attributes.
    async fn find(&self, users: &[PlannedUser]) -> miette::Result<Vec<(String, RemoteUser)>>;
    /// Of `users` found in the pool (planned username, the pool's username), the planned
    /// usernames of those with no MFA method enabled, when the pool's MFA is optional;
    /// none otherwise (see [`mfa`]).
    async fn without_mfa(&self, users: &[(String, String)]) -> miette::Result<BTreeSet<String>>;
}

/// The shared import role.
#[allow(async_fn_in_trait)]
pub trait Roles {
    /// Finds or creates the role; its ARN, and whether this run created it.
    async fn ensure(&self) -> miette::Result<(String, bool)>;
}

/// What the workflow reports while it runs; `commands::apply` renders them.
#[derive(Debug, Clone)]
pub enum Event {
    /// Another import job runs in the pool; waiting for it before planning.
    WaitingBeforePlan(Job),
    RoleCreated {
        arn: String,
    },
    /// A step is retried after a delay (IAM propagation).
    Retrying {
        why: String,
        delay: Duration,
    },
    /// A job of this plan from an earlier run, found again.
    Resuming {
        job: Job,
    },
    /// A job of this plan that already ran: reported, not repeated.
    Reporting(Job),
    Created(Job),
    /// Another run of this plan created a job first: following it.
    Following {
        job: Job,
    },
    /// Planned users found in the pool right before the upload: their rows are not uploaded.
    Dropped {
        usernames: Vec<String>,
    },
    /// Every planned user of a part is in the pool: no job for it.
    NothingLeft,
    Uploaded {
        job: Job,
        users: usize,
    },
    Started(Job),
    /// Start (or create) refused while another job runs: waiting for it.
    WaitingForOther {
        job: Job,
    },
    Paused {
        why: Pause,
        delay: Duration,
    },
    /// Waiting for a job; `rows` for ours.
    Waiting {
        job: Job,
        rows: Option<u64>,
    },
    Progress(Job),
    Finished(Job),
    /// `--no-wait`: the job keeps running.
    LeftRunning(Job),
    Verifying {
        users: usize,
    },
    /// The second phase reads the pool back (its planned users and their memberships).
    ReadingPool,
    ReadingPoolProgress(crate::pool::ReadProgress),
    /// The read-back is done, with these requests.
    ReadPool {
        requests: BTreeMap<&'static str, u64>,
    },
    /// The second phase sends this many changes the pool still lacks.
    Changing {
        changes: usize,
    },
    /// A change was sent (`failed` of the `done` failed).
    Changed {
        done: usize,
        total: usize,
        failed: usize,
    },
    /// Every change of the second phase was sent.
    ChangesSent,
}

/// One job's outcome for the report.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    pub job: Job,
    pub log_group: String,
    pub log_stream: String,
    /// The AWS console's link to the log stream; null with a custom endpoint (an emulator).
    pub console_url: Option<String>,
    /// Users the log says were skipped or failed, where the line mapping holds.
    pub users: Vec<UserOutcome>,
    /// How the log numbered the rows (`null`: the mapping did not hold).
    pub log_numbering: Option<Numbering>,
}

/// What apply did and what the pool says.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub jobs: Vec<JobReport>,
    /// Every planned user, read back; `None` with `--no-wait` when a job was left running.
    pub verified: Option<Vec<Verified>>,
    /// Groups, enabled state and memberships; `None` when a job was left running (the
    /// second phase runs only after the import and its read-back).
    pub second_phase: Option<PhaseReport>,
}

impl Outcome {
    /// Exit 0 iff every planned user is in the pool and every change of the second phase
    /// was made (or the run did not wait).
    pub fn success(&self) -> bool {
        self.verified
            .as_ref()
            .is_none_or(|v| v.iter().all(|u| !matches!(u.state, State::Missing | State::MfaNotEnabled)))
            && self.second_phase.as_ref().is_none_or(|p| !p.is_failure())
    }
}

fn now_epoch() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Waits for a job that runs in the pool before anything is planned, so that the plan sees
/// what it imported. Returns false when `no_wait` (the caller reports it).
pub async fn wait_for_active(
    imports: &impl Imports,
    no_wait: bool,
    on_event: &mut dyn FnMut(Event),
) -> miette::Result<Option<Job>> {
    let jobs = imports.list_jobs().await?;
    let Some(active) = jobs.into_iter().find(|j| j.status.is_active()) else { return Ok(None) };
    if no_wait {
        return Ok(Some(active));
    }
    on_event(Event::WaitingBeforePlan(active.clone()));
    wait(imports, active, None, on_event).await?;
    Ok(None)
}

/// Polls a job until it finishes; backs off from 0.5 s to 5 s.
async fn wait(
    imports: &impl Imports,
    mut job: Job,
    rows: Option<u64>,
    on_event: &mut dyn FnMut(Event),
) -> miette::Result<Job> {
    on_event(Event::Waiting { job: job.clone(), rows });
    let mut delay = Duration::from_millis(500);
    while !job.status.is_finished() {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        job = imports.describe(&job.id).await?;
        on_event(Event::Progress(job.clone()));
    }
    on_event(Event::Finished(job.clone()));
    Ok(job)
}

/// Runs the workflow: the import (no job when there is no user to import), then, once its
/// users are read back, the second phase.
pub async fn run(
    work: &Work,
    no_wait: bool,
    imports: &impl Imports,
    users: &impl Users,
    roles: &impl Roles,
    changes: &impl Changes,
    on_event: &mut dyn FnMut(Event),
) -> miette::Result<Outcome> {
    let mut outcome = if work.users.is_empty() {
        Outcome { jobs: Vec::new(), verified: Some(Vec::new()), second_phase: None }
    } else {
        import(work, no_wait, imports, users, roles, on_event).await?
    };
    // Only after the read-back: only users the pool holds now get changes (SPEC §8).
    if outcome.verified.is_some() {
        outcome.second_phase = Some(second_phase::run(&work.second_phase(), changes, on_event).await?);
    }
    Ok(outcome)
}

/// The import: performs the machine's steps until it is done, then builds the outcome from
/// the jobs and the pool read back.
async fn import(
    work: &Work,
    no_wait: bool,
    imports: &impl Imports,
    users: &impl Users,
    roles: &impl Roles,
    on_event: &mut dyn FnMut(Event),
) -> miette::Result<Outcome> {
    let mut machine = Machine::new(work.part_plans(), no_wait);
    let mut role_arn = String::new();
    let mut found: Vec<(String, RemoteUser)> = Vec::new();
    let mut without_mfa: BTreeSet<String> = BTreeSet::new();
    let mut followed: Option<String> = None;
    let mut resumed: BTreeSet<String> = BTreeSet::new();
    let mut seen = Seen::Begin;
    loop {
        let step = machine.next(seen);
        seen = match step {
            Step::EnsureRole => {
                let (arn, created) = roles.ensure().await?;
                if created {
                    on_event(Event::RoleCreated { arn: arn.clone() });
                }
                role_arn = arn;
                Seen::Role
            }
            Step::FindJobs { .. } | Step::FindActive { .. } => {
                Seen::Jobs { jobs: imports.list_jobs().await?, now: now_epoch() }
            }
            Step::Recheck { usernames, .. } => {
                let rechecked: BTreeSet<&str> = usernames.iter().map(String::as_str).collect();
                let planned: Vec<PlannedUser> =
                    work.users.iter().filter(|u| rechecked.contains(u.username.as_str())).cloned().collect();
                let existing: BTreeSet<String> = users.find(&planned).await?.into_iter().map(|(u, _)| u).collect();
                if !existing.is_empty() {
                    let dropped: Vec<String> = usernames.iter().filter(|u| existing.contains(*u)).cloned().collect();
                    if dropped.len() == usernames.len() {
                        on_event(Event::NothingLeft);
                    } else {
                        on_event(Event::Dropped { usernames: dropped });
                    }
                }
                Seen::Existing(existing)
            }
            Step::Create { part, name } => {
                let mut retry = |why: String, delay: Duration| on_event(Event::Retrying { why, delay });
                let algorithm = work.parts[part].hash_algorithm.as_deref();
                match imports.create(&name, &role_arn, algorithm, &mut retry).await {
                    Created::Job(job) => {
                        on_event(Event::Created(job.clone()));
                        Seen::Created(job)
                    }
                    Created::Refused(_) => Seen::CreateRefused,
                    Created::Failed(error) => return Err(error.into()),
                }
            }
            Step::Follow { job, .. } => {
                if followed.as_deref() != Some(job.id.as_str()) {
                    on_event(Event::Following { job: job.clone() });
                    followed = Some(job.id.clone());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                Seen::Described(imports.describe(&job.id).await?)
            }
            Step::Upload { part, job, usernames } => {
                if machine.runs()[part].resumed && resumed.insert(job.id.clone()) {
                    on_event(Event::Resuming { job: job.clone() });
                }
                let body = file_for(&work.parts[part].file, &usernames);
                match imports.upload(&job, body).await {
                    Ok(()) => {
                        on_event(Event::Uploaded { job: job.clone(), users: usernames.len() });
                        Seen::Uploaded
                    }
                    Err(error) if error.code.as_deref() == Some(UPLOAD_URL_EXPIRED) => Seen::UploadExpired,
                    Err(error) => return Err(error.into()),
                }
            }
            Step::Start { job, .. } => match imports.start(&job.id).await {
                Ok(job) => {
                    on_event(Event::Started(job.clone()));
                    Seen::Started(job)
                }
                Err(error)
                    if matches!(
                        error.code.as_deref(),
                        Some("LimitExceededException" | "PreconditionNotMetException")
                    ) =>
                {
                    Seen::StartRefused
                }
                Err(error) => return Err(error.into()),
            },
            Step::WaitFor { part, job, rows, ours } => {
                let run = &machine.runs()[part];
                if ours && run.resumed && run.uploaded.is_none() && resumed.insert(job.id.clone()) {
                    on_event(Event::Resuming { job: job.clone() });
                }
                if !ours {
                    on_event(Event::WaitingForOther { job: job.clone() });
                }
                Seen::Finished(wait(imports, job, rows, on_event).await?)
            }
            Step::Pause { delay, why, .. } => {
                on_event(Event::Paused { why, delay });
                tokio::time::sleep(delay).await;
                Seen::Paused
            }
            Step::ReadLog { part, job } => {
                if machine.runs()[part].resumed && machine.runs()[part].uploaded.is_none() && job.status.is_finished() {
                    on_event(Event::Reporting(job.clone()));
                }
                Seen::Log(imports.read_log(&job).await?)
            }
            Step::LeaveRunning { job, .. } => {
                on_event(Event::LeftRunning(job));
                Seen::Paused
            }
            Step::Verify => {
                on_event(Event::Verifying { users: work.users.len() });
                found = if work.users.is_empty() { Vec::new() } else { users.find(&work.users).await? };
                let declared = mfa::declared(&work.parts);
                let check: Vec<(String, String)> = found
                    .iter()
                    .filter(|(u, _)| declared.contains(u))
                    .map(|(u, r)| (u.clone(), r.username.clone()))
                    .collect();
                if !check.is_empty() {
                    without_mfa = users.without_mfa(&check).await?;
                }
                Seen::Verified
            }
            Step::Done => break,
        };
    }
    if let Some(stuck) = machine.stuck() {
        return Err(match stuck {
            Stuck::JobQuota => miette::miette!(
                help = "Cognito allows 1,000 import jobs per pool; this pool has reached it",
                "failed to create an import job in pool `{}`: LimitExceededException, and no other job is running",
                work.pool_id
            ),
            Stuck::SlotWait { job_id } => miette::miette!(
                help = "another import job may be running in another pool of this account and region; run `cognito-sync apply` again later: it resumes this job",
                "import job `{job_id}` could not be started for {} minutes",
                machine::SLOT_WAIT.as_secs() / 60
            ),
        });
    }
    Ok(outcome(work, &machine, &found, &without_mfa))
}

/// Withholds each user's own values from Cognito's reasons for its row: the log's reasons
/// are sanitised already (`import::reason`), and this catches a value in a wording no rule
/// foresaw. A value is looked for as declared and as written in the CSV (`\,`).
fn withhold_row_values(outcomes: &mut verify::Outcomes, users: &[PlannedUser]) {
    if outcomes.is_empty() {
        return;
    }
    let by_name: std::collections::HashMap<&str, &PlannedUser> =
        users.iter().map(|u| (u.username.as_str(), u)).collect();
    for (username, (_, reason)) in outcomes.iter_mut() {
        let Some(user) = by_name.get(username.as_str()) else { continue };
        let escaped: Vec<String> =
            user.attributes.values().filter(|v| v.contains(',')).map(|v| v.replace(',', "\\,")).collect();
        *reason = crate::import::reason::redact_values(
            reason,
            user.attributes.values().chain(escaped.iter().map(String::as_str)),
        );
    }
}

/// The report: each job with its mapped log, and every planned user's verdict.
fn outcome(work: &Work, machine: &Machine, found: &[(String, RemoteUser)], without_mfa: &BTreeSet<String>) -> Outcome {
    let present: BTreeSet<String> = found.iter().map(|(u, _)| u.clone()).collect();
    let mut jobs = Vec::new();
    let mut evidence: Vec<verify::PartEvidence> = Vec::new();
    for (plan, run) in machine.parts().iter().zip(machine.runs()) {
        // The file's users: exactly as uploaded by this run; otherwise the planned ones
        // (the mapping then holds only if it agrees with the pool).
        let usernames = run.uploaded.clone().unwrap_or_else(|| plan.usernames.clone());
        let mut mapping = verify::map_log(&run.log, &usernames, &present);
        withhold_row_values(&mut mapping.outcomes, &work.users);
        if let Some(job) = &run.job
            && !run.left_running
            && (job.status.is_finished())
        {
            let (log_group, log_stream) = log_location(&work.pool_id, &work.pool_name, job);
            let users = usernames
                .iter()
                .filter_map(|u| {
                    mapping.outcomes.get(u).filter(|(o, _)| *o != crate::import::Outcome::Succeeded).map(
                        |(outcome, reason)| UserOutcome {
                            username: u.clone(),
                            outcome: outcome.clone(),
                            reason: reason.clone(),
                        },
                    )
                })
                .collect();
            jobs.push(JobReport {
                console_url: Some(log_console_url(&work.region, &log_group, &log_stream)),
                log_group,
                log_stream,
                users,
                log_numbering: mapping.numbering,
                job: job.clone(),
            });
        }
        evidence.push(verify::PartEvidence { dropped: run.dropped.clone(), mapping });
    }
    if !machine.waited() {
        return Outcome { jobs, verified: None, second_phase: None };
    }
    let by_user: BTreeMap<String, &verify::PartEvidence> = machine
        .parts()
        .iter()
        .zip(&evidence)
        .flat_map(|(plan, e)| plan.usernames.iter().map(move |u| (u.clone(), e)))
        .collect();
    let planned: BTreeMap<&str, &PlannedUser> = work.users.iter().map(|u| (u.username.as_str(), u)).collect();
    let drift: BTreeMap<String, Vec<AttributeDrift>> = found
        .iter()
        .filter_map(|(username, remote)| {
            let planned = planned.get(username.as_str())?;
            Some((username.clone(), crate::plan::attribute_drift(planned.attributes.iter(), remote)))
        })
        .collect();
    let mut verified = verify::verify(&work.users, &drift, &by_user);
    // The status each user has in the pool: CONFIRMED for a user imported with a password
    // hash, RESET_REQUIRED otherwise (SPEC §9); the report says who is which.
    let status: BTreeMap<&str, &str> = found.iter().map(|(u, r)| (u.as_str(), r.status.as_str())).collect();
    for user in &mut verified {
        user.status = status.get(user.username.as_str()).filter(|s| !s.is_empty()).map(|s| (*s).to_owned());
        if user.state == State::Present && without_mfa.contains(&user.username) {
            user.state = State::MfaNotEnabled;
            user.reason = Some(mfa::reason(&work.pool_id, &user.username));
        }
    }
    Outcome { jobs, verified: Some(verified), second_phase: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_own_values_are_withheld_from_its_reason() {
        let users = vec![PlannedUser {
            username: "alice".into(),
            attributes: [("name", "Smith, Ann"), ("custom:team", "eng")].into_iter().collect(),
        }];
        let mut outcomes: verify::Outcomes = [(
            "alice".to_owned(),
            (crate::import::Outcome::Failed, "bad name Smith\\, Ann for eng in engineering".to_owned()),
        )]
        .into();
        withhold_row_values(&mut outcomes, &users);
        assert_eq!(outcomes["alice"].1, "bad name <withheld> for <withheld> in engineering");
    }

    #[test]
    fn the_upload_holds_the_header_and_the_kept_rows_only() {
        let file = ImportFile {
            bytes: b"cognito:username,email\nalice,a@x.org\nbob,b@x.org\ncarol,c@x.org\n".to_vec(),
            usernames: vec!["alice".into(), "bob".into(), "carol".into()],
            algorithm: None,
        };
        let kept = file_for(&file, &["alice".into(), "carol".into()]);
        assert_eq!(String::from_utf8(kept).unwrap(), "cognito:username,email\nalice,a@x.org\ncarol,c@x.org\n");
    }
}
