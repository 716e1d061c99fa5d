//! After the job(s): the pool, read back, is the judge (SPEC §6 item 9). Pure.
//!
//! Every planned user is either present as declared, present but created elsewhere
//! meanwhile (found before our upload, skipped by the job as existing, or with attributes
//! that differ from the plan), or missing. A missing user gets Cognito's reason from the job
//! log only where the log's line mapping holds; otherwise "missing after the job".
//!
//! The mapping: Cognito's log names rows by `Line Number N`, and whether N counts the header
//! is undocumented. Both readings are tried against the file this run uploaded; a reading
//! holds when it maps every line to a row and agrees with the pool (a SUCCEEDED row's user
//! is present, a FAILED row's user is missing). When exactly one reading holds, it is used;
//! when none does (or the file was uploaded by an earlier run and the counts do not match),
//! the log gives no reasons.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::import::{LogLine, Outcome};
use crate::plan::AttributeDrift;

/// How the log numbers rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Numbering {
    /// The first data row is line 1.
    DataRows,
    /// The header is line 1, the first data row line 2.
    HeaderCounted,
}

impl Numbering {
    fn first(self) -> usize {
        match self {
            Numbering::DataRows => 1,
            Numbering::HeaderCounted => 2,
        }
    }
}

/// Username → (outcome, Cognito's reason).
pub type Outcomes = BTreeMap<String, (Outcome, String)>;

/// Log lines mapped to usernames, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogMapping {
    /// `None` when no reading of the line numbers holds.
    pub numbering: Option<Numbering>,
    /// Username → (outcome, Cognito's reason), when the mapping holds.
    pub outcomes: Outcomes,
}

/// Maps `lines` to `usernames` (the file's rows, in order), checked against `present` (the
/// planned users found in the pool afterwards).
pub fn map_log(lines: &[LogLine], usernames: &[String], present: &BTreeSet<String>) -> LogMapping {
    if lines.is_empty() || usernames.is_empty() {
        return LogMapping::default();
    }
    let holding: Vec<(Numbering, Outcomes)> = [Numbering::DataRows, Numbering::HeaderCounted]
        .into_iter()
        .filter_map(|numbering| {
            let mut outcomes = BTreeMap::new();
            for line in lines {
                let row = line.line_number.checked_sub(numbering.first())?;
                let username = usernames.get(row)?;
                let agrees = match line.outcome {
                    Outcome::Succeeded => present.contains(username),
                    Outcome::Failed => !present.contains(username),
                    // Skipped: the user existed (or was a duplicate row): no check.
                    Outcome::Skipped => true,
                };
                if !agrees {
                    return None;
                }
                outcomes.insert(username.clone(), (line.outcome.clone(), line.reason.clone()));
            }
            Some((numbering, outcomes))
        })
        .collect();
    match holding.as_slice() {
        [(numbering, outcomes)] => LogMapping { numbering: Some(*numbering), outcomes: outcomes.clone() },
        // Both hold only when the lines cannot tell (e.g. one line, all outcomes alike and
        // consistent either way): the data-row reading, AWS's own sample's, when every row
        // has its line; otherwise no reasons.
        [(numbering, outcomes), _] if lines.len() == usernames.len() && lines.iter().any(|l| l.line_number == 1) => {
            LogMapping { numbering: Some(*numbering), outcomes: outcomes.clone() }
        }
        _ => LogMapping::default(),
    }
}

/// A planned user, as the plan declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUser {
    pub username: String,
    /// Compact, and shared with the plan's: apply holds every planned user.
    pub attributes: crate::manifest::Attributes,
}

/// One planned user, read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub username: String,
    pub state: State,
    /// Cognito's reason (a missing user), or why the user counts as created elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Declared attributes whose pool value differs (a user created elsewhere).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftReport>,
    /// The user's `UserStatus` in the pool (`CONFIRMED`, `RESET_REQUIRED`...), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// In the pool as declared (imported by the job).
    Present,
    /// In the pool, but not from this plan's job: created elsewhere meanwhile.
    CreatedElsewhere,
    /// Not in the pool.
    Missing,
    /// Imported, but its row's `cognito:mfa_enabled` `true` left it with no MFA method
    /// enabled (see `apply::mfa`).
    MfaNotEnabled,
}

/// One attribute of a user created elsewhere that differs from the plan. Values are not
/// carried: they are personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    pub attribute: String,
    /// Whether the pool has a value at all.
    pub set_in_pool: bool,
}

/// Why a missing user whose reason the log cannot give is missing.
pub const MISSING_AFTER_THE_JOB: &str = "missing after the job";

/// What one planned user's part saw: the users dropped before the upload and the log.
#[derive(Debug, Clone, Default)]
pub struct PartEvidence {
    pub dropped: BTreeSet<String>,
    pub mapping: LogMapping,
}

/// The verdict for every planned user, in plan order. `found` maps the usernames found in
/// the pool to the drift of their attributes from the plan.
pub fn verify(
    planned: &[PlannedUser],
    found: &BTreeMap<String, Vec<AttributeDrift>>,
    evidence: &BTreeMap<String, &PartEvidence>,
) -> Vec<Verified> {
    planned
        .iter()
        .map(|user| {
            let part = evidence.get(&user.username);
            let logged = part.and_then(|p| p.mapping.outcomes.get(&user.username));
            match found.get(&user.username) {
                Some(drift) => {
                    let dropped = part.is_some_and(|p| p.dropped.contains(&user.username));
                    let skipped = matches!(logged, Some((Outcome::Skipped, _)));
                    let reason = if dropped {
                        Some("it was in the pool before the upload, so its row was not uploaded".to_owned())
                    } else if skipped {
                        logged.map(|(_, reason)| format!("the job skipped its row: {reason}"))
                    } else if !drift.is_empty() {
                        Some("its attributes differ from the plan".to_owned())
                    } else {
                        None
                    };
                    Verified {
                        username: user.username.clone(),
                        state: if reason.is_some() { State::CreatedElsewhere } else { State::Present },
                        reason,
                        drift: drift
                            .iter()
                            .map(|d| DriftReport { attribute: d.attribute.clone(), set_in_pool: d.pool.is_some() })
                            .collect(),
                        status: None,
                    }
                }
                None => Verified {
                    username: user.username.clone(),
                    state: State::Missing,
                    reason: Some(match logged {
                        Some((Outcome::Failed | Outcome::Skipped, reason)) => reason.clone(),
                        _ => MISSING_AFTER_THE_JOB.to_owned(),
                    }),
                    drift: Vec::new(),
                    status: None,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    fn line(outcome: Outcome, n: usize, reason: &str) -> LogLine {
        LogLine { outcome, line_number: n, reason: reason.into() }
    }

    fn set(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_mapping_is_right_whether_the_header_counts_or_not() {
        let usernames = names(&["a", "b", "c"]);
        let present = set(&["a", "c"]);
        for (numbering, first) in [(Numbering::DataRows, 1), (Numbering::HeaderCounted, 2)] {
            let lines = vec![
                line(Outcome::Succeeded, first, "ok"),
                line(Outcome::Failed, first + 1, "bad"),
                line(Outcome::Succeeded, first + 2, "ok"),
            ];
            let mapping = map_log(&lines, &usernames, &present);
            assert_eq!(mapping.numbering, Some(numbering));
            assert_eq!(mapping.outcomes["b"], (Outcome::Failed, "bad".to_owned()));
        }
    }

    #[test]
    fn the_pool_decides_when_the_numbers_alone_cannot() {
        // Two lines for a three-row file: 2 and 3. Data rows: b, c; header counted: a, b.
        let usernames = names(&["a", "b", "c"]);
        let lines = vec![line(Outcome::Failed, 2, "bad"), line(Outcome::Succeeded, 3, "ok")];
        // b missing, c present → data rows.
        let mapping = map_log(&lines, &usernames, &set(&["c", "a"]));
        assert_eq!(mapping.numbering, Some(Numbering::DataRows));
        // a missing, b present → header counted.
        let mapping = map_log(&lines, &usernames, &set(&["b"]));
        assert_eq!(mapping.numbering, Some(Numbering::HeaderCounted));
        // Neither agrees with the pool: no reasons.
        let mapping = map_log(&lines, &usernames, &set(&["a", "b", "c"]));
        assert_eq!(mapping, LogMapping::default());
    }

    #[test]
    fn users_are_present_created_elsewhere_or_missing() {
        let planned: Vec<PlannedUser> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|u| PlannedUser { username: (*u).into(), attributes: Default::default() })
            .collect();
        let drift = vec![AttributeDrift { attribute: "email".into(), pool: Some("x".into()), manifest: "y".into() }];
        let found: BTreeMap<String, Vec<AttributeDrift>> =
            [("a".into(), vec![]), ("b".into(), vec![]), ("c".into(), drift)].into();
        let evidence = PartEvidence {
            dropped: set(&["b"]),
            mapping: LogMapping {
                numbering: Some(Numbering::DataRows),
                outcomes: [("d".to_owned(), (Outcome::Failed, "bad email".to_owned()))].into(),
            },
        };
        let by_user: BTreeMap<String, &PartEvidence> =
            ["a", "b", "c", "d", "e"].iter().map(|u| ((*u).to_owned(), &evidence)).collect();
        let verdicts = verify(&planned, &found, &by_user);
        let states: Vec<_> = verdicts.iter().map(|v| v.state.clone()).collect();
        assert_eq!(
            states,
            [State::Present, State::CreatedElsewhere, State::CreatedElsewhere, State::Missing, State::Missing]
        );
        assert_eq!(verdicts[2].drift, [DriftReport { attribute: "email".into(), set_in_pool: true }]);
        assert_eq!(verdicts[3].reason.as_deref(), Some("bad email"));
        assert_eq!(verdicts[4].reason.as_deref(), Some(MISSING_AFTER_THE_JOB));
    }
}
