//! The second phase of `apply`, after the import job(s): read the planned users back from
//! the pool, send what is still missing (`changes::pending`), one paced request at a time,
//! with progress, and report each change. Nothing here decides what to change: that is
//! `changes`, pure.

use std::fmt::Write as _;

use serde::Serialize;

use crate::changes::{ChangeRunner, Target, pending};
use crate::output::progress::Progress;
use crate::output::{Paint, Printer, Role};
use crate::pool::aws::CognitoPool;
use crate::settings::Settings;

/// One change and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeResult {
    /// The declared user it concerns (null for a group).
    pub username: Option<String>,
    /// What was sent, e.g. "add `alice` to group `admins`".
    pub change: String,
    /// Cognito's error code and message when it failed; null when done.
    pub error: Option<String>,
}

/// The second phase's report (`second_phase` in `apply --format json`).
#[derive(Debug, Clone, Default, Serialize)]
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
    pub fn is_failure(&self) -> bool {
        self.failed > 0 || !self.missing_users.is_empty()
    }
}

/// Runs the second phase for `target` in the pool; `Ok` even when changes failed (they are
/// in the report); `Err` when the pool cannot be read back.
pub async fn run(
    target: &Target,
    pool_id: &str,
    region: &str,
    settings: &Settings,
    pacer: &std::sync::Arc<crate::pace::Pacer>,
    printer: &Printer,
) -> miette::Result<PhaseReport> {
    let mut report = PhaseReport::default();
    if target.is_empty() {
        return Ok(report);
    }
    // The pool, not the plan, says what is left: a failed import gets no change, and a
    // re-run after an interruption sends only what is missing.
    let pool = super::plan::read_back(pool_id, region, &target.wanted(), settings, pacer).await?;
    let pending = pending(target, &pool);
    report.missing_users = pending.missing;
    report.pending = pending.changes.len();
    if pending.changes.is_empty() {
        return Ok(report);
    }
    printer.status(format!(
        "second phase: {} in pool `{pool_id}` (groups, enabled state, memberships)",
        crate::output::plural(pending.changes.len() as u64, "change", "changes")
    ));
    // Paced under UserResourceUpdate / UserUpdate (25/s per account, shared with the app):
    // the run's pacer takes its share of each, and slows down on throttling.
    let runner = CognitoPool::connect(&settings.aws, pool_id, region, std::sync::Arc::clone(pacer)).await?;
    let total = pending.changes.len() as u64;
    let mut progress = Progress::new(settings, Some(total), "second phase");
    for (i, change) in pending.changes.iter().enumerate() {
        let result = runner.run(change).await;
        let error = result.err().map(|e| e.to_string());
        if error.is_some() {
            report.failed += 1;
        } else {
            report.done += 1;
        }
        report.changes.push(ChangeResult {
            username: change.username().map(str::to_owned),
            change: change.to_string(),
            error,
        });
        progress.update(i as u64 + 1, &format!("second phase: {}/{total} changes, {} failed", i + 1, report.failed));
    }
    progress.finish();
    Ok(report)
}

/// The report as text: one line per change and per missing user.
pub fn render(report: &PhaseReport, paint: Paint) -> String {
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
