//! The second phase of `apply` (SPEC §6 item 14, §8): after the import job(s), create the
//! declared groups that are missing, disable new users declared `enabled: false`, then set
//! the enabled state of existing users and add the declared memberships.
//!
//! Pure: [`Target`] is what the plan asked for; [`pending`] diffs it against the pool read
//! back after the import, so that a user whose import failed simply gets no change (it is
//! reported as missing), and a re-run after an interruption sends only what is still
//! missing: nothing twice, nothing lost. `apply::second_phase` sends the requests, through
//! its `Changes` trait (Cognito's adapter is `apply::adapters::PoolChanges`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::plan::{NewGroup, Plan};
use crate::pool::{ObservedPool, SIGN_IN_ATTRIBUTES, Wanted, WantedUser};

/// What the second phase must reach, as planned (and as a saved plan carries it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Declared groups that were missing at plan time.
    pub groups: Vec<NewGroup>,
    pub users: Vec<TargetUser>,
}

/// One user the second phase may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUser {
    pub username: String,
    /// `email` / `phone_number`, to find the user in pools that sign in by them.
    pub sign_in: BTreeMap<String, String>,
    /// Imported by this apply (its changes come first when they disable it).
    pub new: bool,
    /// The enabled state to reach; `None`: leave it.
    pub enabled: Option<bool>,
    /// Groups the user must be in.
    pub groups: Vec<String>,
}

impl Target {
    /// The second phase of `plan`: its groups to create, its users to change, and its new
    /// users that are disabled or join groups.
    pub fn from_plan(plan: &Plan) -> Self {
        let sign_in = |attributes: &crate::manifest::Attributes| -> BTreeMap<String, String> {
            SIGN_IN_ATTRIBUTES
                .iter()
                .filter_map(|a| attributes.get(a).map(|v| ((*a).to_owned(), v.to_owned())))
                .collect()
        };
        let mut users: Vec<TargetUser> = plan
            .to_import
            .iter()
            .filter(|u| !u.enabled || !u.groups.is_empty())
            .map(|u| TargetUser {
                username: u.username.clone(),
                sign_in: sign_in(&u.attributes),
                new: true,
                enabled: (!u.enabled).then_some(false),
                groups: u.groups.clone(),
            })
            .collect();
        users.extend(plan.to_change.iter().map(|u| TargetUser {
            username: u.username.clone(),
            sign_in: u.sign_in.clone(),
            new: false,
            enabled: u.set_enabled,
            groups: u.add_groups.clone(),
        }));
        Target { groups: plan.groups_to_create.clone(), users }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.users.is_empty()
    }

    /// What the read-back must find: these users, their memberships in these groups.
    pub fn wanted(&self) -> Wanted {
        let mut wanted = Wanted::default();
        wanted.groups.extend(self.groups.iter().map(|g| g.name.clone()));
        for user in &self.users {
            wanted.groups.extend(user.groups.iter().cloned());
            wanted.attributes.extend(user.sign_in.keys().cloned());
            wanted.users.push(WantedUser {
                username: user.username.clone(),
                sign_in: user.sign_in.clone().into(),
                groups: user.groups.clone(),
            });
        }
        wanted
    }
}

/// One item of the second phase as a saved plan carries it (`post_import[]`), covered by
/// the plan digest. Holds personal data (`sign_in`): a saved plan is written mode 0600, and
/// the masked JSON of `plan --format json` leaves `sign_in` empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PostImportChange {
    /// A declared group missing from the pool at plan time.
    CreateGroup { name: String, description: Option<String>, precedence: Option<i64>, role_arn: Option<String> },
    /// A user's enabled state to reach and groups to join.
    User {
        username: String,
        #[serde(default)]
        sign_in: BTreeMap<String, String>,
        /// Imported by this plan.
        new: bool,
        enabled: Option<bool>,
        groups: Vec<String>,
    },
}

impl Target {
    /// The saved form, in plan order: groups, then users.
    pub fn to_post_import(&self) -> Vec<PostImportChange> {
        let groups = self.groups.iter().map(|g| PostImportChange::CreateGroup {
            name: g.name.clone(),
            description: g.description.clone(),
            precedence: g.precedence,
            role_arn: g.role_arn.clone(),
        });
        let users = self.users.iter().map(|u| PostImportChange::User {
            username: u.username.clone(),
            sign_in: u.sign_in.clone(),
            new: u.new,
            enabled: u.enabled,
            groups: u.groups.clone(),
        });
        groups.chain(users).collect()
    }

    /// The target a saved plan carries.
    pub fn from_post_import(items: &[PostImportChange]) -> Self {
        let mut target = Target::default();
        for item in items {
            match item {
                PostImportChange::CreateGroup { name, description, precedence, role_arn } => {
                    target.groups.push(NewGroup {
                        name: name.clone(),
                        description: description.clone(),
                        precedence: *precedence,
                        role_arn: role_arn.clone(),
                    })
                }
                PostImportChange::User { username, sign_in, new, enabled, groups } => target.users.push(TargetUser {
                    username: username.clone(),
                    sign_in: sign_in.clone(),
                    new: *new,
                    enabled: *enabled,
                    groups: groups.clone(),
                }),
            }
        }
        target
    }

    /// Requests for users that existed at plan time (what `--max-changes` limits).
    pub fn existing_user_changes(&self) -> usize {
        self.users.iter().filter(|u| !u.new).map(|u| u.groups.len() + usize::from(u.enabled.is_some())).sum()
    }
}

/// One request of the second phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateGroup(NewGroup),
    /// AdminDisableUser / AdminEnableUser. `pool_username` is the name Cognito knows.
    SetEnabled {
        username: String,
        pool_username: String,
        enabled: bool,
    },
    /// AdminAddUserToGroup.
    AddToGroup {
        username: String,
        pool_username: String,
        group: String,
    },
}

impl Change {
    /// The declared user it concerns, if any.
    pub fn username(&self) -> Option<&str> {
        match self {
            Change::CreateGroup(_) => None,
            Change::SetEnabled { username, .. } | Change::AddToGroup { username, .. } => Some(username),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateGroup(group) => write!(f, "create group `{}`", group.name),
            Change::SetEnabled { username, enabled: true, .. } => write!(f, "enable `{username}`"),
            Change::SetEnabled { username, enabled: false, .. } => write!(f, "disable `{username}`"),
            Change::AddToGroup { username, group, .. } => write!(f, "add `{username}` to group `{group}`"),
        }
    }
}

/// What is left to do, in order, and the users that cannot be changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    pub changes: Vec<Change>,
    /// Planned users absent from the pool (e.g. their import failed): reported, not sent.
    pub missing: Vec<String>,
}

/// The changes still needed for `target` in the pool read back after the import: groups
/// that exist are not created, a state or membership already as declared is skipped, and
/// users absent from the pool get nothing. Order: groups, then disabling new users, then
/// existing users' state, then memberships (SPEC §8).
pub fn pending(target: &Target, pool: &ObservedPool) -> Pending {
    let mut out = Pending::default();
    for group in &target.groups {
        if !pool.groups.contains_key(&group.name) {
            out.changes.push(Change::CreateGroup(group.clone()));
        }
    }
    let wanted = target.wanted();
    let found = crate::plan::matched(&wanted, pool);
    let mut new_state = Vec::new();
    let mut existing_state = Vec::new();
    let mut memberships = Vec::new();
    for (user, remote) in target.users.iter().zip(found) {
        let Some(remote) = remote else {
            out.missing.push(user.username.clone());
            continue;
        };
        if let Some(enabled) = user.enabled
            && enabled != remote.enabled
        {
            let change =
                Change::SetEnabled { username: user.username.clone(), pool_username: remote.username.clone(), enabled };
            if user.new { new_state.push(change) } else { existing_state.push(change) }
        }
        for group in &user.groups {
            if !remote.groups.contains(group) {
                memberships.push(Change::AddToGroup {
                    username: user.username.clone(),
                    pool_username: remote.username.clone(),
                    group: group.clone(),
                });
            }
        }
    }
    out.changes.extend(new_state);
    out.changes.extend(existing_state);
    out.changes.extend(memberships);
    out
}

/// Why one change failed: Cognito's error code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeError {
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{MembershipStrategy, RemoteGroup, RemoteUser};

    fn pool(users: Vec<RemoteUser>, groups: &[&str]) -> ObservedPool {
        ObservedPool {
            groups: groups.iter().map(|g| ((*g).to_owned(), RemoteGroup::default())).collect(),
            memberships: Some(MembershipStrategy::PerUser),
            ..ObservedPool::fixture(users)
        }
    }

    fn remote(name: &str, enabled: bool, groups: &[&str]) -> RemoteUser {
        RemoteUser {
            username: name.into(),
            attributes: Default::default(),
            status: "CONFIRMED".into(),
            enabled,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    fn user(name: &str, new: bool, enabled: Option<bool>, groups: &[&str]) -> TargetUser {
        TargetUser {
            username: name.into(),
            sign_in: BTreeMap::new(),
            new,
            enabled,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    fn target() -> Target {
        Target {
            groups: vec![NewGroup { name: "admins".into(), description: None, precedence: Some(1), role_arn: None }],
            users: vec![
                user("old", false, Some(true), &["admins"]),
                user("fresh", true, Some(false), &["admins", "staff"]),
                user("failed", true, None, &["staff"]),
            ],
        }
    }

    #[test]
    fn groups_first_then_new_users_disabled_then_existing_then_memberships() {
        let p = pool(vec![remote("old", false, &[]), remote("fresh", true, &[])], &["staff"]);
        let pending = pending(&target(), &p);
        let shown: Vec<String> = pending.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "create group `admins`",
                "disable `fresh`",
                "enable `old`",
                "add `old` to group `admins`",
                "add `fresh` to group `admins`",
                "add `fresh` to group `staff`",
            ]
        );
        // The user whose import failed gets no request; it is reported.
        assert_eq!(pending.missing, ["failed"]);
    }

    #[test]
    fn a_re_run_sends_only_what_is_still_missing() {
        let p = pool(
            vec![
                remote("old", true, &["admins"]),
                remote("fresh", false, &["admins"]),
                remote("failed", true, &["staff"]),
            ],
            &["staff", "admins"],
        );
        let shown: Vec<String> = pending(&target(), &p).changes.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["add `fresh` to group `staff`"]);
        let done = pool(
            vec![
                remote("old", true, &["admins"]),
                remote("fresh", false, &["admins", "staff"]),
                remote("failed", true, &["staff"]),
            ],
            &["staff", "admins"],
        );
        assert_eq!(pending(&target(), &done), Pending::default());
    }

    #[test]
    fn changes_address_the_pool_username() {
        let mut t = Target::default();
        t.users.push(TargetUser {
            username: "alice".into(),
            sign_in: [("email".to_owned(), "alice@example.com".to_owned())].into(),
            new: true,
            enabled: Some(false),
            groups: vec![],
        });
        let mut uuid = remote("7f3e-uuid", true, &[]);
        uuid.attributes = [("email", "alice@example.com")].into_iter().collect();
        let mut p = pool(vec![uuid], &[]);
        p.username_attributes = vec!["email".into()];
        assert_eq!(
            pending(&t, &p).changes,
            [Change::SetEnabled { username: "alice".into(), pool_username: "7f3e-uuid".into(), enabled: false }]
        );
    }
}
