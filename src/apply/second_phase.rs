//! The second phase of apply (SPEC §6 item 14, §8), after the import job(s) and their
//! read-back (or right away when there is nothing to import): read the planned users back
//! from the pool with their memberships, then send what is still missing, one paced request
//! at a time, and report each change.
//!
//! Nothing here decides what to change: [`crate::changes::pending`] does, purely, from the
//! [`Target`] and the pool read back, so that a user whose import failed gets no change and
//! a re-run after an interruption sends only what is missing. This module performs those
//! changes through the small [`Changes`] trait (Cognito's adapter is
//! [`super::adapters::PoolChanges`]) and reports what happens as [`Event`]s.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Event;
use crate::changes::{Change, ChangeError, Target, pending};
use crate::pool::{ObservedPool, ReadProgress, Wanted};

impl super::Work {
    /// What the second phase must reach: the work's post-import changes.
    pub fn second_phase(&self) -> Target {
        Target::from_post_import(&self.post_import)
    }
}

/// The pool operations of the second phase.
#[allow(async_fn_in_trait)]
pub trait Changes {
    /// The pool as it is now, for the `wanted` users and their memberships in the wanted
    /// groups; each read request is told to `on_read` (for progress).
    async fn read_back(&self, wanted: &Wanted, on_read: &mut dyn FnMut(ReadProgress)) -> miette::Result<ObservedPool>;
    /// The requests sent so far, by operation (shown with `-v`).
    fn requests(&self) -> BTreeMap<&'static str, u64>;
    /// Sends one change. Idempotent: a group that exists, a member already in the group, a
    /// user already in the state are successes.
    async fn send(&self, change: &Change) -> Result<(), ChangeError>;
}

/// One change and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeResult {
    /// The declared user it concerns (null for a group).
    pub username: Option<String>,
    /// What was sent, e.g. "add `alice` to group `admins`".
    pub change: String,
    /// Cognito's error code and message when it failed; null when done.
    pub error: Option<String>,
}

/// The second phase's report (`second_phase` in `apply --format json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PhaseReport {
    /// Changes still needed after the import, as read back from the pool.
    pub pending: usize,
    pub done: usize,
    pub failed: usize,
    pub changes: Vec<ChangeResult>,
    /// Planned users absent from the pool (their import failed): no change was sent.
    pub missing_users: Vec<String>,
}

impl PhaseReport {
    /// Exit 1 when a change failed or a planned user is missing.
    pub fn is_failure(&self) -> bool {
        self.failed > 0 || !self.missing_users.is_empty()
    }

    /// Records how `change` went.
    pub fn record(&mut self, change: &Change, result: Result<(), ChangeError>) {
        let error = result.err().map(|e| e.to_string());
        if error.is_some() {
            self.failed += 1;
        } else {
            self.done += 1;
        }
        self.changes.push(ChangeResult {
            username: change.username().map(str::to_owned),
            change: change.to_string(),
            error,
        });
    }
}

/// Runs the second phase for `target`: `Ok` even when changes failed (they are in the
/// report); `Err` when the pool cannot be read back.
pub async fn run(
    target: &Target,
    changes: &impl Changes,
    on_event: &mut dyn FnMut(Event),
) -> miette::Result<PhaseReport> {
    let mut report = PhaseReport::default();
    if target.is_empty() {
        return Ok(report);
    }
    // The pool, not the plan, says what is left: a failed import gets no change, and a
    // re-run after an interruption sends only what is missing.
    on_event(Event::ReadingPool);
    let pool = changes.read_back(&target.wanted(), &mut |step| on_event(Event::ReadingPoolProgress(step))).await?;
    on_event(Event::ReadPool { requests: changes.requests() });
    let pending = pending(target, &pool);
    report.missing_users = pending.missing;
    report.pending = pending.changes.len();
    if pending.changes.is_empty() {
        return Ok(report);
    }
    let total = pending.changes.len();
    on_event(Event::Changing { changes: total });
    for (i, change) in pending.changes.iter().enumerate() {
        let result = changes.send(change).await;
        report.record(change, result);
        on_event(Event::Changed { done: i + 1, total, failed: report.failed });
    }
    on_event(Event::ChangesSent);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::plan::NewGroup;
    use crate::pool::{MembershipStrategy, RemoteGroup, RemoteUser};

    /// A pool in memory: what a read-back finds, and the changes sent to it.
    struct Memory {
        pool: ObservedPool,
        /// Changes that fail, by their text.
        refuse: Vec<&'static str>,
        sent: RefCell<Vec<String>>,
        reads: RefCell<usize>,
    }

    impl Changes for Memory {
        async fn read_back(
            &self,
            _wanted: &Wanted,
            on_read: &mut dyn FnMut(ReadProgress),
        ) -> miette::Result<ObservedPool> {
            *self.reads.borrow_mut() += 1;
            on_read(ReadProgress { strategy: crate::pool::ReadStrategy::LookUp, done: 1, total: 1 });
            Ok(self.pool.clone())
        }

        fn requests(&self) -> BTreeMap<&'static str, u64> {
            [("AdminGetUser", *self.reads.borrow() as u64)].into()
        }

        async fn send(&self, change: &Change) -> Result<(), ChangeError> {
            let text = change.to_string();
            self.sent.borrow_mut().push(text.clone());
            if self.refuse.contains(&text.as_str()) {
                return Err(ChangeError { code: Some("InternalErrorException".into()), message: "no".into() });
            }
            Ok(())
        }
    }

    fn memory(users: Vec<RemoteUser>, refuse: Vec<&'static str>) -> Memory {
        let pool = ObservedPool {
            groups: [("staff".to_owned(), RemoteGroup::default())].into(),
            memberships: Some(MembershipStrategy::PerUser),
            ..ObservedPool::fixture(users)
        };
        Memory { pool, refuse, sent: RefCell::default(), reads: RefCell::default() }
    }

    fn remote(name: &str) -> RemoteUser {
        RemoteUser {
            username: name.into(),
            attributes: Default::default(),
            status: "RESET_REQUIRED".into(),
            enabled: true,
            groups: Default::default(),
        }
    }

    fn target() -> Target {
        let user = |name: &str, enabled: Option<bool>| crate::changes::TargetUser {
            username: name.into(),
            sign_in: BTreeMap::new(),
            new: true,
            enabled,
            groups: vec!["admins".into(), "staff".into()],
        };
        Target {
            groups: vec![NewGroup { name: "admins".into(), description: None, precedence: None, role_arn: None }],
            users: vec![user("alice", Some(false)), user("failed", None)],
        }
    }

    fn run_in_memory(target: &Target, pool: &Memory) -> (PhaseReport, Vec<String>) {
        let events = RefCell::new(Vec::new());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let report = runtime
            .block_on(run(target, pool, &mut |event| events.borrow_mut().push(format!("{event:?}"))))
            .expect("read back");
        (report, events.into_inner())
    }

    #[test]
    fn sends_what_the_pool_lacks_in_order_and_reports_each_change() {
        let pool = memory(vec![remote("alice")], vec!["add `alice` to group `staff`"]);
        let (report, events) = run_in_memory(&target(), &pool);
        assert_eq!(
            *pool.sent.borrow(),
            [
                "create group `admins`",
                "disable `alice`",
                "add `alice` to group `admins`",
                "add `alice` to group `staff`"
            ]
        );
        assert_eq!((report.pending, report.done, report.failed), (4, 3, 1));
        assert_eq!(report.missing_users, ["failed"]);
        assert_eq!(
            report.changes[3],
            ChangeResult {
                username: Some("alice".into()),
                change: "add `alice` to group `staff`".into(),
                error: Some("InternalErrorException: no".into()),
            }
        );
        assert_eq!(report.changes[0].username, None);
        assert!(report.is_failure());
        assert_eq!(
            events,
            [
                "ReadingPool",
                "ReadingPoolProgress(ReadProgress { strategy: LookUp, done: 1, total: 1 })",
                "ReadPool { requests: {\"AdminGetUser\": 1} }",
                "Changing { changes: 4 }",
                "Changed { done: 1, total: 4, failed: 0 }",
                "Changed { done: 2, total: 4, failed: 0 }",
                "Changed { done: 3, total: 4, failed: 0 }",
                "Changed { done: 4, total: 4, failed: 1 }",
                "ChangesSent",
            ]
        );
    }

    #[test]
    fn an_empty_target_reads_nothing_and_a_pool_in_sync_gets_no_request() {
        let pool = memory(vec![remote("alice")], vec![]);
        let (report, events) = run_in_memory(&Target::default(), &pool);
        assert_eq!((report, events.len(), *pool.reads.borrow()), (PhaseReport::default(), 0, 0));

        let mut alice = remote("alice");
        alice.enabled = false;
        alice.groups = ["admins".to_owned(), "staff".to_owned()].into();
        let mut in_sync = memory(vec![alice], vec![]);
        in_sync.pool.groups.insert("admins".into(), RemoteGroup::default());
        let mut only_alice = target();
        only_alice.users.truncate(1);
        let (report, events) = run_in_memory(&only_alice, &in_sync);
        assert!(in_sync.sent.borrow().is_empty());
        assert_eq!(report, PhaseReport::default());
        assert!(!report.is_failure());
        assert_eq!(events.len(), 3, "{events:?}");
    }
}
