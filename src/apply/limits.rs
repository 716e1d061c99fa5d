//! The guards `apply` checks before any request that changes the pool (SPEC §6 items 2 and
//! 14): `--max-new` limits the users to import, `--max-changes` the second phase's changes
//! to users that existed at plan time. Pure.

use super::Work;
use crate::output::plural;

/// The limits of one run; `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--max-new`: users to import.
    pub max_new: Option<usize>,
    /// `--max-changes`: memberships to add and states to set for existing users.
    pub max_changes: Option<usize>,
}

impl Limits {
    /// Refuses `work` when it goes past a limit; `--max-changes` is checked first.
    pub fn check(&self, work: &Work) -> miette::Result<()> {
        let changes = work.second_phase().existing_user_changes();
        if let Some(max) = self.max_changes
            && changes > max
        {
            return Err(miette::miette!(
                help = "raise `--max-changes`, or change fewer existing users at a time",
                "refusing {} to existing users: `--max-changes` is {max}",
                plural(changes as u64, "change", "changes")
            ));
        }
        let users = work.user_count();
        if let Some(max) = self.max_new
            && users > max
        {
            return Err(miette::miette!(
                help = "raise `--max-new`, or import in smaller steps",
                "refusing to import {}: `--max-new` is {max}",
                plural(users as u64, "user", "users")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::PlannedUser;
    use crate::changes::PostImportChange;

    /// Work importing `new` users, with `changes` changes to existing users and one to a
    /// new user (which no limit counts).
    fn work(new: usize, changes: usize) -> Work {
        let existing = PostImportChange::User {
            username: "old".into(),
            sign_in: Default::default(),
            new: false,
            enabled: Some(false),
            groups: (1..changes).map(|i| format!("g{i}")).collect(),
        };
        let fresh = PostImportChange::User {
            username: "user0".into(),
            sign_in: Default::default(),
            new: true,
            enabled: Some(false),
            groups: vec!["g1".into()],
        };
        Work {
            pool_id: "eu-west-1_T".into(),
            pool_name: "t".into(),
            region: "eu-west-1".into(),
            role: "cognito-sync-import".into(),
            scoped_trust: false,
            plan_digest: "0".repeat(64),
            users: (0..new)
                .map(|i| PlannedUser { username: format!("user{i}"), attributes: Default::default() })
                .collect(),
            parts: Vec::new(),
            post_import: if changes == 0 { vec![fresh] } else { vec![existing, fresh] },
        }
    }

    fn refusal(limits: Limits, work: &Work) -> Option<(String, String)> {
        limits.check(work).err().map(|e| (e.to_string(), e.help().unwrap().to_string()))
    }

    #[test]
    fn each_limit_refuses_only_past_it() {
        let no_limits = Limits::default();
        assert_eq!(refusal(no_limits, &work(5, 4)), None);
        let limits = Limits { max_new: Some(2), max_changes: Some(3) };
        assert_eq!(refusal(limits, &work(2, 3)), None);
        assert_eq!(
            refusal(limits, &work(3, 3)),
            Some((
                "refusing to import 3 users: `--max-new` is 2".into(),
                "raise `--max-new`, or import in smaller steps".into()
            ))
        );
        assert_eq!(
            refusal(limits, &work(2, 4)),
            Some((
                "refusing 4 changes to existing users: `--max-changes` is 3".into(),
                "raise `--max-changes`, or change fewer existing users at a time".into()
            ))
        );
        // Changes to new users are the import's: `--max-changes` does not count them.
        assert_eq!(refusal(Limits { max_changes: Some(0), ..no_limits }, &work(1, 0)), None);
        // Both past: `--max-changes` is the one reported.
        let both = refusal(Limits { max_new: Some(0), max_changes: Some(0) }, &work(1, 1)).unwrap();
        assert_eq!(both.0, "refusing 1 change to existing users: `--max-changes` is 0");
    }
}
