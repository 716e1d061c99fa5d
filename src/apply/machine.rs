//! The apply step machine: what to do next, from what the last step saw. Pure: no I/O, no
//! clock (the time comes in with what was seen), no runtime; the loop in [`super::run`]
//! performs each [`Step`] and feeds back a [`Seen`].
//!
//! For each part (one import file, one job) in turn:
//!
//! ```text
//! FindJobs ─► a job of this name is running ─────────────► Wait ─► ReadLog ─► next part
//!          └► Recheck (look the part's users up again)
//!               ├► every user exists ──────────────────────────────────────► next part
//!               ├► a job of this name ran, and some user of it exists ─► ReadLog (report it)
//!               ├► a created job whose URL is still valid ─► Upload ─► Start
//!               └► otherwise (none, expired, failed before any row, every user still
//!                  missing after it ran) ─► Create ─► FindJobs
//!                    ├► an older job of this name is still to run ─► Follow it ─► Wait
//!                    └► Recheck again (the create may have taken seconds: IAM propagation,
//!                       a concurrent run's job may have run meanwhile), then as above:
//!                       every user exists / a job of this name ran ─► next part / ReadLog;
//!                       otherwise ─► Upload (only the users still missing) ─► Start
//! Start refused (LimitExceeded / PreconditionNotMet) ─► FindActive
//!          ├► another job is active ─► WaitFor it ─► Recheck ─► Upload ─► Start
//!          └► none visible ─► Pause ─► Start (bounded)
//! after the last part ─► Verify (read every planned user back) ─► Done
//! ```
//!
//! Every upload follows a recheck with nothing but a job listing between them, so a job never
//! carries a row for a user that was in the pool when its upload began, and a job of this plan
//! that a concurrent run started is followed or, once it ran, reported: one job of a plan
//! processes rows. What no client can close is the window between the recheck and the start:
//! a job of *another* plan can run entirely meanwhile (it was pending at the recheck). Its
//! users' rows in ours are then SKIPPED by Cognito (it never imports a username twice) and
//! reported as created elsewhere (the README's "Concurrent runs").

use std::collections::BTreeSet;
use std::time::Duration;

use crate::import::{Job, JobStatus, LogLine, job_name, winner};

/// The pre-signed upload URL is valid for 15 minutes after the job is created \[JOB\]; a
/// created job older than this (a minute's margin) is not uploaded to, a new one is made.
pub const URL_LIFETIME_SECS: f64 = 14.0 * 60.0;

/// How long a start refused because another job is active is retried when that job cannot
/// be seen (it runs in another pool of the account and region), in all.
pub const SLOT_WAIT: Duration = Duration::from_secs(30 * 60);

/// How long the loop lets a job created by a concurrent run of the same plan be uploaded and
/// started by that run before taking it over.
pub const FOLLOW_POLLS: u32 = 30;

/// One part of the import: one file, one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartPlan {
    /// The job name (deterministic, see [`job_name`]).
    pub name: String,
    /// The usernames of the file's rows, in order.
    pub usernames: Vec<String>,
    /// The password-hash algorithm of this part's job (one job per algorithm); `None` for
    /// users without a hash.
    pub hash_algorithm: Option<String>,
}

impl PartPlan {
    /// The parts of a plan whose files hold `usernames` each.
    pub fn for_plan(plan_digest: &str, files: &[Vec<String>]) -> Vec<PartPlan> {
        let parts = files.len();
        files
            .iter()
            .enumerate()
            .map(|(i, usernames)| PartPlan {
                name: job_name(plan_digest, i + 1, parts),
                usernames: usernames.clone(),
                hash_algorithm: None,
            })
            .collect()
    }
}

/// What the loop must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Find or create the shared role. → [`Seen::Role`]
    EnsureRole,
    /// List the pool's jobs (all of them: the caller filters nothing). → [`Seen::Jobs`]
    FindJobs { part: usize },
    /// Look these planned users up in the pool again. → [`Seen::Existing`]
    Recheck { part: usize, usernames: Vec<String> },
    /// Create a job of this name. → [`Seen::Created`] or [`Seen::CreateRefused`]
    Create { part: usize, name: String },
    /// Upload the part's rows of these users (and no others) to the job. → [`Seen::Uploaded`]
    /// or [`Seen::UploadExpired`]
    Upload { part: usize, job: Job, usernames: Vec<String> },
    /// Start the job. → [`Seen::Started`] or [`Seen::StartRefused`]
    Start { part: usize, job: Job },
    /// A concurrent run of this plan created the job: see whether it uploaded and started it,
    /// after a pause. → [`Seen::Described`]
    Follow { part: usize, job: Job },
    /// List the pool's jobs to recognise a refusal. → [`Seen::Jobs`]
    FindActive { part: usize },
    /// Wait for a job to finish (ours: with the number of rows; another: `None`).
    /// → [`Seen::Finished`]
    WaitFor { part: usize, job: Job, rows: Option<u64>, ours: bool },
    /// Sleep, then go on. → [`Seen::Paused`]
    Pause { part: usize, delay: Duration, why: Pause },
    /// Read the job's log. → [`Seen::Log`]
    ReadLog { part: usize, job: Job },
    /// `--no-wait`: the job runs; say so and go on. → [`Seen::Paused`]
    LeaveRunning { part: usize, job: Job },
    /// Read every planned user back from the pool. → [`Seen::Verified`]
    Verify,
    /// Nothing more to do.
    Done,
}

/// Why the machine pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Start refused right after an upload, no other job visible: the file may not be
    /// visible to Cognito yet \[AWS-SAMPLE\].
    UploadNotVisible,
    /// Start refused, no other job visible in this pool: one may be active in another pool
    /// of the account and region.
    SlotTaken,
}

/// What the loop saw when it performed the last step.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Begin,
    Role,
    /// The pool's jobs, and the time (epoch seconds) they were listed at.
    Jobs {
        jobs: Vec<Job>,
        now: f64,
    },
    /// Which of the rechecked usernames exist in the pool now.
    Existing(BTreeSet<String>),
    Created(Job),
    /// Create refused with LimitExceededException.
    CreateRefused,
    Uploaded,
    /// The upload URL had expired.
    UploadExpired,
    Started(Job),
    /// Start refused with one of the codes that can mean "another job is active".
    StartRefused,
    Described(Job),
    Finished(Job),
    Paused,
    Log(Vec<LogLine>),
    Verified,
}

/// A refusal the machine could not resolve: the loop turns it into an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stuck {
    /// Create was refused with LimitExceededException and no job is active in the pool:
    /// the pool's 1,000-jobs quota.
    JobQuota,
    /// Start was refused for [`SLOT_WAIT`] and no active job could be seen.
    SlotWait { job_id: String },
}

/// What happened to one part, for the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartRun {
    /// The job that carries (or carried) this part's rows, when there is one.
    pub job: Option<Job>,
    /// Whether this run uploaded the job's file, and with which users, in row order: then
    /// the log maps exactly. `None` when an earlier run uploaded it.
    pub uploaded: Option<Vec<String>>,
    /// Planned users found in the pool by a recheck before the upload, dropped from it.
    pub dropped: BTreeSet<String>,
    /// The job's log lines.
    pub log: Vec<LogLine>,
    /// The job was found from an earlier run (resumed or reported), not created by this run.
    pub resumed: bool,
    /// `--no-wait` left the job running.
    pub left_running: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Begin,
    Role,
    Finding,
    /// `jobs`: this part's jobs as listed at `now`; `ours`: the job this run just created
    /// (or takes over), uploaded to after the recheck unless there is nothing left for it.
    Rechecking {
        jobs: Vec<Job>,
        now: f64,
        ours: Option<Job>,
    },
    Creating,
    Uploading(Job),
    Starting(Job),
    Following {
        job: Job,
        polls: u32,
    },
    FindingActive(Job),
    WaitingOther(Job),
    PausedBeforeStart(Job),
    Waiting,
    Reading,
    Leaving,
    Verifying,
    Done,
}

/// The machine. [`Machine::next`] takes what the last step saw and returns the next step.
#[derive(Debug, Clone)]
pub struct Machine {
    parts: Vec<PartPlan>,
    runs: Vec<PartRun>,
    current: usize,
    phase: Phase,
    no_wait: bool,
    /// Start refusals in a row with no visible active job, and the time paused for them.
    refusals: u32,
    paused: Duration,
    stuck: Option<Stuck>,
    /// Jobs whose upload URL turned out expired: never uploaded to or followed again.
    dead: BTreeSet<String>,
}

impl Machine {
    pub fn new(parts: Vec<PartPlan>, no_wait: bool) -> Self {
        let runs = vec![PartRun::default(); parts.len()];
        Machine {
            parts,
            runs,
            current: 0,
            phase: Phase::Begin,
            no_wait,
            refusals: 0,
            paused: Duration::ZERO,
            stuck: None,
            dead: BTreeSet::new(),
        }
    }

    pub fn parts(&self) -> &[PartPlan] {
        &self.parts
    }

    pub fn runs(&self) -> &[PartRun] {
        &self.runs
    }

    /// Set when the machine gave up ([`Step::Done`] follows).
    pub fn stuck(&self) -> Option<&Stuck> {
        self.stuck.as_ref()
    }

    /// Whether every part's job finished (nothing was left running by `--no-wait`).
    pub fn waited(&self) -> bool {
        !self.runs.iter().any(|r| r.left_running)
    }

    /// The next step, from what the last one saw. A `Seen` that does not fit the current
    /// phase is a bug in the loop; the machine then ends (`Done`).
    pub fn next(&mut self, seen: Seen) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        let part = self.current;
        match (phase, seen) {
            (Phase::Begin, Seen::Begin) => {
                if self.parts.is_empty() {
                    return self.verify();
                }
                self.phase = Phase::Role;
                Step::EnsureRole
            }
            (Phase::Role, Seen::Role) => self.find(),
            (Phase::Finding, Seen::Jobs { jobs, now }) => {
                let mine: Vec<Job> = jobs.into_iter().filter(|j| j.name == self.parts[part].name).collect();
                if let Some(running) = mine.iter().find(|j| j.status.is_active()) {
                    self.runs[part].job = Some(running.clone());
                    self.runs[part].resumed = true;
                    return self.wait_ours(running.clone());
                }
                self.phase = Phase::Rechecking { jobs: mine, now, ours: None };
                Step::Recheck { part, usernames: self.parts[part].usernames.clone() }
            }
            (Phase::Rechecking { jobs, now, ours }, Seen::Existing(existing)) => {
                let plan = &self.parts[part];
                let run = &mut self.runs[part];
                if ours.is_some() {
                    // The recheck before our own job's upload looked up only the users not
                    // dropped yet: these add to the ones dropped before.
                    run.dropped.extend(plan.usernames.iter().filter(|u| existing.contains(*u)).cloned());
                } else {
                    run.dropped = plan.usernames.iter().filter(|u| existing.contains(*u)).cloned().collect();
                }
                let processed = |j: &&Job| j.status.is_finished() && j.imported + j.skipped + j.failed > 0;
                let ran = jobs.iter().find(processed);
                // A job of this plan that ran and left some planned user in the pool is
                // reported, never repeated. One after which every planned user is still
                // missing (all rows failed, e.g. transiently) is retried with a new job.
                if let Some(ran) = ran
                    && !run.dropped.is_empty()
                {
                    run.job = Some(ran.clone());
                    run.resumed = true;
                    self.phase = Phase::Reading;
                    return Step::ReadLog { part, job: ran.clone() };
                }
                if run.dropped.len() == plan.usernames.len() {
                    return self.next_part();
                }
                if let Some(job) = ours {
                    return self.upload(job);
                }
                let usable: Vec<Job> = jobs
                    .iter()
                    .filter(|j| {
                        j.status == JobStatus::Created
                            && j.upload_url.is_some()
                            && !self.dead.contains(&j.id)
                            && j.created_at.is_none_or(|at| now - at < URL_LIFETIME_SECS)
                    })
                    .cloned()
                    .collect();
                match winner(&usable) {
                    Some(job) => {
                        run.job = Some(job.clone());
                        run.resumed = true;
                        self.upload(job.clone())
                    }
                    None => self.create(),
                }
            }
            (Phase::Creating, Seen::Created(job)) => {
                self.runs[part].job = Some(job.clone());
                self.runs[part].resumed = false;
                // Another run of this plan may have created one at the same moment: every
                // run follows the oldest (see `winner`); it lists the jobs to find out.
                self.phase = Phase::Following { job: job.clone(), polls: 0 };
                Step::FindJobs { part }
            }
            (Phase::Following { job, polls: 0 }, Seen::Jobs { jobs, now }) => {
                let same: Vec<Job> = jobs.into_iter().filter(|j| j.name == job.name).collect();
                // Only jobs still to run count: a finished job of this plan is not followed
                // (an earlier one all of whose users failed, or a concurrent run's that ran
                // while this run created its own: the recheck finds its users).
                let to_run: Vec<Job> =
                    same.iter().filter(|j| !j.status.is_finished() && !self.dead.contains(&j.id)).cloned().collect();
                match winner(&to_run) {
                    Some(first) if first.id != job.id => {
                        self.runs[part].job = Some(first.clone());
                        self.phase = Phase::Following { job: first.clone(), polls: 1 };
                        Step::Follow { part, job: first.clone() }
                    }
                    _ => self.recheck_before_upload(job, same, now),
                }
            }
            (Phase::Following { polls, .. }, Seen::Described(job)) => {
                self.runs[part].job = Some(job.clone());
                if job.status != JobStatus::Created {
                    return self.wait_ours(job);
                }
                if polls >= FOLLOW_POLLS {
                    // The run that created it did not start it: take over.
                    return self.recheck_before_upload(job, Vec::new(), 0.0);
                }
                self.phase = Phase::Following { job: job.clone(), polls: polls + 1 };
                Step::Follow { part, job }
            }
            (Phase::Creating, Seen::CreateRefused) => {
                self.phase = Phase::FindingActive(Job::placeholder());
                Step::FindActive { part }
            }
            (Phase::Uploading(job), Seen::Uploaded) => {
                self.phase = Phase::Starting(job.clone());
                Step::Start { part, job }
            }
            (Phase::Uploading(job), Seen::UploadExpired) => {
                self.dead.insert(job.id);
                self.create()
            }
            (Phase::Starting(_), Seen::Started(job)) => {
                self.refusals = 0;
                self.runs[part].job = Some(job.clone());
                self.wait_ours(job)
            }
            (Phase::Starting(job), Seen::StartRefused) => {
                self.phase = Phase::FindingActive(job);
                Step::FindActive { part }
            }
            (Phase::FindingActive(ours), Seen::Jobs { jobs, .. }) => {
                let creating = ours.id.is_empty();
                if !creating && let Some(now) = jobs.iter().find(|j| j.id == ours.id) {
                    // Another run of this plan started it meanwhile.
                    if now.status != JobStatus::Created {
                        self.runs[part].job = Some(now.clone());
                        return self.wait_ours(now.clone());
                    }
                }
                if let Some(active) = jobs.iter().find(|j| j.status.is_active() && j.id != ours.id) {
                    self.refusals = 0;
                    self.phase = Phase::WaitingOther(ours);
                    return Step::WaitFor { part, job: active.clone(), rows: None, ours: false };
                }
                if creating {
                    // Refused at create with no job running: the pool's job quota.
                    self.stuck = Some(Stuck::JobQuota);
                    return Step::Done;
                }
                self.refusals += 1;
                let (delay, why) = if self.refusals <= 4 {
                    (Duration::from_secs(1 << self.refusals), Pause::UploadNotVisible)
                } else {
                    (Duration::from_secs(10), Pause::SlotTaken)
                };
                if self.paused + delay > SLOT_WAIT {
                    self.stuck = Some(Stuck::SlotWait { job_id: ours.id });
                    return Step::Done;
                }
                self.paused += delay;
                self.phase = Phase::PausedBeforeStart(ours);
                Step::Pause { part, delay, why }
            }
            (Phase::PausedBeforeStart(job), Seen::Paused) => {
                self.phase = Phase::Starting(job.clone());
                Step::Start { part, job }
            }
            (Phase::WaitingOther(_), Seen::Finished(_)) => {
                // The other job may have imported some of our users, and our upload URL may
                // have expired meanwhile: find our job again, look the users up again, then
                // upload what is still missing.
                self.find()
            }
            (Phase::Waiting, Seen::Finished(job)) => {
                self.runs[part].job = Some(job.clone());
                self.phase = Phase::Reading;
                Step::ReadLog { part, job }
            }
            (Phase::Reading, Seen::Log(lines)) => {
                self.runs[part].log = lines;
                self.next_part()
            }
            (Phase::Leaving, Seen::Paused) => self.next_part(),
            (Phase::Verifying, Seen::Verified) => Step::Done,
            _ => Step::Done,
        }
    }

    fn find(&mut self) -> Step {
        self.phase = Phase::Finding;
        Step::FindJobs { part: self.current }
    }

    fn create(&mut self) -> Step {
        self.phase = Phase::Creating;
        Step::Create { part: self.current, name: self.parts[self.current].name.clone() }
    }

    /// Looks the users not dropped yet up again right before uploading to `job` (created by
    /// this run or taken over): the recheck before the create may be seconds old. `jobs`:
    /// the part's jobs as listed at `now`, for a job of this plan that ran meanwhile.
    fn recheck_before_upload(&mut self, job: Job, jobs: Vec<Job>, now: f64) -> Step {
        let part = self.current;
        let run = &self.runs[part];
        let usernames: Vec<String> =
            self.parts[part].usernames.iter().filter(|u| !run.dropped.contains(*u)).cloned().collect();
        self.phase = Phase::Rechecking { jobs, now, ours: Some(job) };
        Step::Recheck { part, usernames }
    }

    fn upload(&mut self, job: Job) -> Step {
        let part = self.current;
        let run = &mut self.runs[part];
        let usernames: Vec<String> =
            self.parts[part].usernames.iter().filter(|u| !run.dropped.contains(*u)).cloned().collect();
        run.uploaded = Some(usernames.clone());
        run.job = Some(job.clone());
        self.phase = Phase::Uploading(job.clone());
        Step::Upload { part, job, usernames }
    }

    fn wait_ours(&mut self, job: Job) -> Step {
        let part = self.current;
        if job.status.is_finished() {
            self.phase = Phase::Reading;
            return Step::ReadLog { part, job };
        }
        if self.no_wait {
            self.runs[part].left_running = true;
            self.phase = Phase::Leaving;
            return Step::LeaveRunning { part, job };
        }
        let rows = self.runs[part].uploaded.as_ref().map_or(self.parts[part].usernames.len(), Vec::len) as u64;
        self.phase = Phase::Waiting;
        Step::WaitFor { part, job, rows: Some(rows), ours: true }
    }

    fn next_part(&mut self) -> Step {
        self.current += 1;
        if self.current < self.parts.len() {
            return self.find();
        }
        if self.no_wait && !self.waited() {
            self.phase = Phase::Done;
            return Step::Done;
        }
        self.verify()
    }

    fn verify(&mut self) -> Step {
        self.phase = Phase::Verifying;
        Step::Verify
    }
}

impl Job {
    /// A job value that stands for "no job yet" in the machine.
    fn placeholder() -> Job {
        Job {
            id: String::new(),
            name: String::new(),
            status: JobStatus::Created,
            imported: 0,
            skipped: 0,
            failed: 0,
            completion_message: None,
            created_at: None,
            upload_url: None,
            password_hashing_algorithm: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::UploadUrl;

    fn job(id: &str, status: JobStatus) -> Job {
        Job {
            id: id.into(),
            name: "cognito-sync-abc".into(),
            status,
            imported: 0,
            skipped: 0,
            failed: 0,
            completion_message: None,
            created_at: Some(1000.0),
            upload_url: Some(UploadUrl::new("https://secret".into())),
            password_hashing_algorithm: None,
        }
    }

    fn machine(users: &[&str]) -> Machine {
        let parts = vec![PartPlan {
            name: "cognito-sync-abc".into(),
            usernames: users.iter().map(|u| (*u).to_owned()).collect(),
            hash_algorithm: None,
        }];
        Machine::new(parts, false)
    }

    /// A machine for `users` that found no job and none of them in the pool: its next step
    /// is the create.
    fn at_create(users: &[&str]) -> Machine {
        let mut m = machine(users);
        m.next(Seen::Begin);
        m.next(Seen::Role);
        m.next(jobs(vec![]));
        assert!(matches!(m.next(existing(&[])), Step::Create { .. }));
        m
    }

    fn existing(users: &[&str]) -> Seen {
        Seen::Existing(users.iter().map(|u| (*u).to_owned()).collect())
    }

    fn jobs(jobs: Vec<Job>) -> Seen {
        Seen::Jobs { jobs, now: 1010.0 }
    }

    /// Runs the machine to the upload step of a fresh plan.
    fn to_upload(m: &mut Machine, already: &[&str]) -> Step {
        assert_eq!(m.next(Seen::Begin), Step::EnsureRole);
        assert_eq!(m.next(Seen::Role), Step::FindJobs { part: 0 });
        assert!(matches!(m.next(jobs(vec![])), Step::Recheck { .. }));
        assert!(matches!(m.next(existing(already)), Step::Create { .. }));
        let created = job("import-1", JobStatus::Created);
        assert_eq!(m.next(Seen::Created(created.clone())), Step::FindJobs { part: 0 });
        // Right before the upload, the users not dropped yet are looked up again.
        let Step::Recheck { usernames, .. } = m.next(jobs(vec![created])) else { panic!() };
        assert!(usernames.iter().all(|u| !already.contains(&u.as_str())), "{usernames:?}");
        m.next(existing(&[]))
    }

    #[test]
    fn a_fresh_plan_creates_uploads_starts_waits_reads_and_verifies() {
        let mut m = machine(&["alice", "bob"]);
        let Step::Upload { usernames, .. } = to_upload(&mut m, &[]) else { panic!() };
        assert_eq!(usernames, ["alice", "bob"]);
        assert!(matches!(m.next(Seen::Uploaded), Step::Start { .. }));
        let started = job("import-1", JobStatus::Pending);
        assert!(matches!(m.next(Seen::Started(started)), Step::WaitFor { rows: Some(2), ours: true, .. }));
        let done = Job { imported: 2, ..job("import-1", JobStatus::Succeeded) };
        assert!(matches!(m.next(Seen::Finished(done)), Step::ReadLog { .. }));
        assert_eq!(m.next(Seen::Log(vec![])), Step::Verify);
        assert_eq!(m.next(Seen::Verified), Step::Done);
        assert!(m.stuck().is_none());
    }

    #[test]
    fn users_that_now_exist_are_dropped_before_the_upload() {
        let mut m = machine(&["alice", "bob", "carol"]);
        let Step::Upload { usernames, .. } = to_upload(&mut m, &["bob"]) else { panic!() };
        assert_eq!(usernames, ["alice", "carol"]);
        assert_eq!(m.runs()[0].dropped, BTreeSet::from(["bob".to_owned()]));
        // Every user exists: no job at all.
        let mut m = machine(&["alice"]);
        m.next(Seen::Begin);
        m.next(Seen::Role);
        m.next(jobs(vec![]));
        assert_eq!(m.next(existing(&["alice"])), Step::Verify);
    }

    #[test]
    fn a_refused_start_waits_for_the_active_job_then_rechecks_and_uploads_again() {
        let mut m = machine(&["alice", "bob"]);
        to_upload(&mut m, &[]);
        m.next(Seen::Uploaded);
        assert!(matches!(m.next(Seen::StartRefused), Step::FindActive { .. }));
        let other = Job { name: "other".into(), ..job("import-9", JobStatus::InProgress) };
        let ours = job("import-1", JobStatus::Created);
        let step = m.next(jobs(vec![other.clone(), ours.clone()]));
        let ours = Job { name: "cognito-sync-abc".into(), ..ours };
        assert_eq!(step, Step::WaitFor { part: 0, job: other.clone(), rows: None, ours: false });
        assert_eq!(m.next(Seen::Finished(other)), Step::FindJobs { part: 0 });
        assert!(matches!(m.next(jobs(vec![ours])), Step::Recheck { .. }));
        // The other job imported bob: only alice is uploaded, to the same job.
        let Step::Upload { job, usernames, .. } = m.next(existing(&["bob"])) else { panic!() };
        assert_eq!(job.id, "import-1");
        assert_eq!(usernames, ["alice"]);
    }

    #[test]
    fn a_refused_start_with_no_visible_job_pauses_with_a_bound() {
        let mut m = machine(&["alice"]);
        to_upload(&mut m, &[]);
        m.next(Seen::Uploaded);
        let ours = job("import-1", JobStatus::Created);
        let mut pauses = Vec::new();
        loop {
            assert!(matches!(m.next(Seen::StartRefused), Step::FindActive { .. }));
            match m.next(jobs(vec![ours.clone()])) {
                Step::Pause { delay, why, .. } => pauses.push((delay, why)),
                Step::Done => break,
                other => panic!("{other:?}"),
            }
            assert!(matches!(m.next(Seen::Paused), Step::Start { .. }));
        }
        assert_eq!(pauses[0], (Duration::from_secs(2), Pause::UploadNotVisible));
        assert_eq!(pauses[4], (Duration::from_secs(10), Pause::SlotTaken));
        let total: Duration = pauses.iter().map(|(d, _)| *d).sum();
        assert!(total <= SLOT_WAIT && total > SLOT_WAIT - Duration::from_secs(11));
        assert_eq!(m.stuck(), Some(&Stuck::SlotWait { job_id: "import-1".into() }));
    }

    #[test]
    fn a_refused_create_with_nothing_running_is_the_job_quota() {
        let mut m = at_create(&["alice"]);
        assert!(matches!(m.next(Seen::CreateRefused), Step::FindActive { .. }));
        assert_eq!(m.next(jobs(vec![])), Step::Done);
        assert_eq!(m.stuck(), Some(&Stuck::JobQuota));
    }

    #[test]
    fn resume_from_every_state() {
        let start = |found: Vec<Job>, already: &[&str]| {
            let mut m = machine(&["alice", "bob"]);
            m.next(Seen::Begin);
            m.next(Seen::Role);
            match m.next(jobs(found)) {
                step @ Step::WaitFor { .. } => step,
                Step::Recheck { .. } => m.next(existing(already)),
                other => panic!("{other:?}"),
            }
        };
        // Running: waited for.
        assert!(matches!(start(vec![job("i", JobStatus::InProgress)], &[]), Step::WaitFor { ours: true, .. }));
        // Created, URL valid: uploaded and started.
        assert!(matches!(start(vec![job("i", JobStatus::Created)], &[]), Step::Upload { .. }));
        // Created, URL expired (older than 14 minutes): a new job.
        let old = Job { created_at: Some(0.0), ..job("i", JobStatus::Created) };
        assert!(matches!(start(vec![old], &[]), Step::Create { .. }));
        // Expired or failed before any row: a new job.
        assert!(matches!(start(vec![job("i", JobStatus::Expired)], &[]), Step::Create { .. }));
        assert!(matches!(start(vec![job("i", JobStatus::Failed)], &[]), Step::Create { .. }));
        // Ran, and every planned user is still missing: a new job.
        let all_failed = Job { failed: 2, ..job("i", JobStatus::Succeeded) };
        assert!(matches!(start(vec![all_failed.clone()], &[]), Step::Create { .. }));
        // Ran, and some planned user exists: reported, not repeated.
        assert!(matches!(start(vec![all_failed], &["alice"]), Step::ReadLog { .. }));
    }

    #[test]
    fn a_retry_after_a_job_whose_users_all_failed_uses_its_new_job() {
        let mut m = machine(&["alice"]);
        m.next(Seen::Begin);
        m.next(Seen::Role);
        let old = Job { failed: 1, created_at: Some(1.0), ..job("import-old", JobStatus::Failed) };
        m.next(jobs(vec![old.clone()]));
        assert!(matches!(m.next(existing(&[])), Step::Create { .. }));
        let new = job("import-new", JobStatus::Created);
        m.next(Seen::Created(new.clone()));
        assert!(matches!(m.next(jobs(vec![new, old])), Step::Recheck { .. }));
        let Step::Upload { job, .. } = m.next(existing(&[])) else { panic!() };
        assert_eq!(job.id, "import-new");
    }

    #[test]
    fn the_upload_url_expired_makes_a_new_job_and_the_old_one_is_not_followed() {
        let mut m = machine(&["alice"]);
        to_upload(&mut m, &[]);
        assert!(matches!(m.next(Seen::UploadExpired), Step::Create { .. }));
        let old = job("import-1", JobStatus::Created);
        let new = Job { created_at: Some(1005.0), ..job("import-2", JobStatus::Created) };
        m.next(Seen::Created(new.clone()));
        assert!(matches!(m.next(jobs(vec![new, old])), Step::Recheck { .. }));
        let Step::Upload { job, .. } = m.next(existing(&[])) else { panic!() };
        assert_eq!(job.id, "import-2");
    }

    /// Three runs of one plan while the role propagates: run A's create succeeded first, its
    /// job ran and finished before run B's create (retried a while longer) returned. B's own
    /// job then is the only one of the plan still to run, but the users it would upload are
    /// A's: B reports A's job and uploads nothing. (Before, B uploaded every row to its job:
    /// a second job, all of whose rows Cognito skipped.)
    #[test]
    fn a_run_whose_create_returns_after_a_concurrent_runs_job_ran_reports_that_job() {
        let mut m = at_create(&["alice", "bob", "carol"]);
        let mine = Job { created_at: Some(1003.0), ..job("import-b", JobStatus::Created) };
        let theirs =
            Job { imported: 3, created_at: Some(1001.0), upload_url: None, ..job("import-a", JobStatus::Succeeded) };
        m.next(Seen::Created(mine.clone()));
        let Step::Recheck { usernames, .. } = m.next(jobs(vec![mine, theirs.clone()])) else { panic!() };
        assert_eq!(usernames, ["alice", "bob", "carol"]);
        assert_eq!(m.next(existing(&["alice", "bob", "carol"])), Step::ReadLog { part: 0, job: theirs.clone() });
        assert_eq!(m.next(Seen::Log(vec![])), Step::Verify);
        assert_eq!(m.runs()[0].job.as_ref(), Some(&theirs));
        assert_eq!(m.runs()[0].uploaded, None);
    }

    /// Two overlapping plans: another plan's job imported bob while this run created its job
    /// (the first recheck saw bob missing). The recheck right before the upload drops him.
    #[test]
    fn users_imported_by_another_plan_while_the_job_was_created_are_not_uploaded() {
        let mut m = at_create(&["bob", "carol"]);
        let mine = job("import-1", JobStatus::Created);
        m.next(Seen::Created(mine.clone()));
        let other = Job { name: "cognito-sync-other".into(), imported: 2, ..job("import-9", JobStatus::Succeeded) };
        assert!(matches!(m.next(jobs(vec![mine, other])), Step::Recheck { .. }));
        let Step::Upload { job: to, usernames, .. } = m.next(existing(&["bob"])) else { panic!() };
        assert_eq!(to.id, "import-1");
        assert_eq!(usernames, ["carol"]);
        assert_eq!(m.runs()[0].dropped, BTreeSet::from(["bob".to_owned()]));
        // Every user imported meanwhile: nothing is uploaded, the job is left to expire.
        let mut m = at_create(&["bob"]);
        let mine = job("import-1", JobStatus::Created);
        m.next(Seen::Created(mine.clone()));
        m.next(jobs(vec![mine]));
        assert_eq!(m.next(existing(&["bob"])), Step::Verify);
        assert_eq!(m.runs()[0].uploaded, None);
    }

    #[test]
    fn a_followed_job_never_started_is_taken_over_after_a_recheck() {
        let mut m = at_create(&["alice", "bob"]);
        let mine = Job { created_at: Some(1001.0), ..job("import-2", JobStatus::Created) };
        let theirs = job("import-1", JobStatus::Created);
        m.next(Seen::Created(mine.clone()));
        assert!(matches!(m.next(jobs(vec![mine, theirs.clone()])), Step::Follow { .. }));
        let mut step = m.next(Seen::Described(theirs.clone()));
        while matches!(step, Step::Follow { .. }) {
            step = m.next(Seen::Described(theirs.clone()));
        }
        assert!(matches!(step, Step::Recheck { .. }), "{step:?}");
        let Step::Upload { job, usernames, .. } = m.next(existing(&["alice"])) else { panic!() };
        assert_eq!(job.id, "import-1");
        assert_eq!(usernames, ["bob"]);
    }

    #[test]
    fn a_concurrent_run_of_the_plan_is_followed() {
        let mut m = at_create(&["alice"]);
        let mine = Job { created_at: Some(1001.0), ..job("import-2", JobStatus::Created) };
        let theirs = job("import-1", JobStatus::Created);
        m.next(Seen::Created(mine.clone()));
        assert!(matches!(m.next(jobs(vec![mine, theirs.clone()])), Step::Follow { .. }));
        assert!(matches!(m.next(Seen::Described(theirs)), Step::Follow { .. }));
        let started = job("import-1", JobStatus::Pending);
        assert!(matches!(m.next(Seen::Described(started)), Step::WaitFor { ours: true, .. }));
    }

    #[test]
    fn no_wait_leaves_the_job_running_and_skips_verification() {
        let mut m = Machine::new(machine(&["alice"]).parts, true);
        to_upload(&mut m, &[]);
        m.next(Seen::Uploaded);
        assert!(matches!(m.next(Seen::Started(job("i", JobStatus::Pending))), Step::LeaveRunning { .. }));
        assert_eq!(m.next(Seen::Paused), Step::Done);
        assert!(!m.waited());
    }
}
