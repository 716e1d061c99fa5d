//! What a user pool looks like from the outside: the settings that decide what an import
//! can do, and the users that already exist. Domain types only; reading them from Cognito
//! is [`aws`]'s job, and nothing here knows the SDK.

pub mod aws;

pub use aws::PoolError;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use crate::import_file::PoolMfa;

/// The name Cognito gives an MFA setting (`MfaConfiguration`).
pub fn mfa_name(mfa: PoolMfa) -> &'static str {
    match mfa {
        PoolMfa::Off => "OFF",
        PoolMfa::On => "ON",
        PoolMfa::Optional => "OPTIONAL",
    }
}

/// One attribute of the pool's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchemaAttribute {
    pub required: bool,
    pub mutable: bool,
    pub custom: bool,
}

/// A user that exists in the pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteUser {
    /// Cognito's username; a UUID in pools that sign in by email or phone.
    pub username: String,
    /// Attribute values by Cognito name, as Cognito stores them; compact, as a declared
    /// user's are: a walk of a large pool, and apply's read-back, hold every user at once.
    pub attributes: crate::manifest::Attributes,
    /// `UserStatus`, e.g. `CONFIRMED` or `RESET_REQUIRED`.
    pub status: String,
    /// `Enabled`: false for a disabled user.
    pub enabled: bool,
    /// The user's groups among those the manifest mentions (the only ones read; see
    /// [`MembershipStrategy`]); empty when memberships were not read.
    pub groups: BTreeSet<String>,
}

/// A group that exists in the pool (ListGroups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteGroup {
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
}

/// How group memberships were read: the cheaper of one `ListUsersInGroup` walk per group
/// the manifest mentions and one `AdminListGroupsForUser` per existing declared user.
/// Both give the same memberships: only the groups the manifest mentions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStrategy {
    /// `ListUsersInGroup` pages, group by group.
    GroupWalk,
    /// `AdminListGroupsForUser`, user by user.
    PerUser,
}

/// `ListUsersInGroup` returns at most 60 users a page. \[MODEL\]
pub const GROUP_PAGE_SIZE: u64 = 60;

/// Requests a group walk is expected to take: per existing group, its members as far as the
/// manifest knows them (`declared_members`), a page of 60 at a time, at least one page.
/// Members the manifest does not declare make it longer; it is an estimate.
pub fn group_walk_cost(declared_members: &[u64]) -> u64 {
    declared_members.iter().map(|n| n.div_ceil(GROUP_PAGE_SIZE).max(1)).sum()
}

/// The cheaper way to read memberships; a tie goes to per-user reads, whose cost is exact.
pub fn choose_membership_strategy(group_walk: u64, existing_users: u64) -> MembershipStrategy {
    if group_walk < existing_users { MembershipStrategy::GroupWalk } else { MembershipStrategy::PerUser }
}

/// How the existing users were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadStrategy {
    /// Every user of the pool, by a full `ListUsers` walk.
    ListAll,
    /// Only the declared users, one look-up each (`AdminGetUser`, or `ListUsers` with a
    /// filter in pools that sign in by email or phone).
    LookUp,
}

/// The existing users that were read, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedUsers {
    /// A full walk: `total` users, of which `users` holds at least every one that matches a
    /// declared user (a walk keeps no others: a 100k-user pool need not sit in memory to
    /// plan ten users).
    All { users: Vec<RemoteUser>, total: u64 },
    /// The users found by looking up the declared ones; the rest of the pool is known only
    /// by its estimated size.
    Found(Vec<RemoteUser>),
}

impl ObservedUsers {
    /// Every user of a walk, all kept.
    pub fn all(users: Vec<RemoteUser>) -> Self {
        ObservedUsers::All { total: users.len() as u64, users }
    }

    pub fn users(&self) -> &[RemoteUser] {
        match self {
            ObservedUsers::All { users, .. } | ObservedUsers::Found(users) => users,
        }
    }

    pub fn into_users(self) -> Vec<RemoteUser> {
        match self {
            ObservedUsers::All { users, .. } | ObservedUsers::Found(users) => users,
        }
    }

    pub fn strategy(&self) -> ReadStrategy {
        match self {
            ObservedUsers::All { .. } => ReadStrategy::ListAll,
            ObservedUsers::Found(_) => ReadStrategy::LookUp,
        }
    }
}

/// A snapshot of one user pool: everything `plan` needs, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPool {
    pub id: String,
    pub name: String,
    pub region: String,
    /// The endpoint the pool was read from, when it was overridden (an emulator).
    pub endpoint: Option<String>,
    /// `GetCSVHeader`, verbatim.
    pub csv_header: Vec<String>,
    /// Attribute name (`email`, `custom:department`) → its schema.
    pub schema: BTreeMap<String, SchemaAttribute>,
    /// `AutoVerifiedAttributes`: `email`, `phone_number`.
    pub auto_verified: Vec<String>,
    pub mfa: PoolMfa,
    /// `UsernameAttributes`: the pool signs in by `email` and/or `phone_number` and stores a
    /// UUID as the username.
    pub username_attributes: Vec<String>,
    /// `AliasAttributes`: `email`, `phone_number`, `preferred_username` that also sign in.
    pub alias_attributes: Vec<String>,
    /// `UsernameConfiguration.CaseSensitive`; pools that do not say are case-sensitive.
    pub case_sensitive: bool,
    /// `EstimatedNumberOfUsers`: an estimate, never an exact count.
    pub estimated_users: u64,
    pub users: ObservedUsers,
    /// Every group of the pool, by name; read only when the manifest mentions groups.
    pub groups: BTreeMap<String, RemoteGroup>,
    /// How the users' memberships were read; `None` when the manifest mentions no group
    /// (or no declared user exists yet).
    pub memberships: Option<MembershipStrategy>,
}

#[cfg(test)]
impl ObservedPool {
    /// A pool for unit tests: case-sensitive, MFA off, email auto-verified, no schema, no
    /// groups; tests override what they look at with struct update syntax.
    pub(crate) fn fixture(users: Vec<RemoteUser>) -> Self {
        ObservedPool {
            id: "eu-west-1_T".into(),
            name: "t".into(),
            region: "eu-west-1".into(),
            endpoint: None,
            csv_header: vec![],
            schema: BTreeMap::new(),
            auto_verified: vec!["email".into()],
            mfa: PoolMfa::Off,
            username_attributes: vec![],
            alias_attributes: vec![],
            case_sensitive: true,
            estimated_users: users.len() as u64,
            users: ObservedUsers::all(users),
            groups: BTreeMap::new(),
            memberships: None,
        }
    }
}

impl ObservedPool {
    /// Usernames as the pool compares them.
    pub fn username_key(&self, username: &str) -> String {
        if self.case_sensitive { username.to_owned() } else { username.to_lowercase() }
    }

    /// The keys under which a declared user is looked for: its username as the pool compares
    /// it or, in a pool that signs in by email or phone, each of those values it has, in the
    /// pool's order. `attributes` needs only the sign-in attributes.
    pub fn declared_keys(&self, username: &str, attributes: &impl crate::manifest::AttributeLookup) -> Vec<String> {
        if self.username_attributes.is_empty() {
            return vec![self.username_key(username)];
        }
        self.username_attributes
            .iter()
            .filter_map(|attribute| attributes.attribute(attribute).map(|value| attribute_key(attribute, value)))
            .collect()
    }

    /// The keys under which a pool user can be found, comparable with [`Self::declared_keys`].
    pub fn remote_keys(&self, user: &RemoteUser) -> Vec<String> {
        self.declared_keys(&user.username, &user.attributes)
    }
}

fn attribute_key(attribute: &str, value: &str) -> String {
    format!("{attribute}\u{0}{}", sign_in_key(attribute, value))
}

/// What `plan` asks of a pool, in domain terms. The Cognito adapter implements it; tests
/// build [`ObservedPool`] values instead.
#[allow(async_fn_in_trait)]
pub trait PoolReader {
    /// Reads the pool's settings (the reader is bound to one pool) and those of its users
    /// that `wanted` needs, by the cheaper of a full walk and per-user look-ups. `progress` hears of each request.
    async fn snapshot(
        &self,
        wanted: &Wanted,
        progress: &mut dyn FnMut(ReadProgress),
    ) -> Result<ObservedPool, PoolError>;
}

/// Progress of a read: requests done, out of an expected total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadProgress {
    pub strategy: ReadStrategy,
    pub done: u64,
    pub total: u64,
}

/// The declared users, as a reader needs them to find their counterparts in the pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub users: Vec<WantedUser>,
    /// Every attribute name the manifest declares. The reader adds the pool's sign-in
    /// attributes, and keeps no others.
    pub attributes: BTreeSet<String>,
    /// Every group the manifest mentions (declared or listed by a user). When not empty,
    /// the reader lists the pool's groups and reads the existing users' memberships in these.
    pub groups: BTreeSet<String>,
}

/// One declared user: its username, and its `email` / `phone_number` for pools that sign in
/// by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedUser {
    pub username: String,
    /// The sign-in attributes it declares, compact: a manifest may declare a million users.
    pub sign_in: crate::manifest::Attributes,
    /// The groups the user declares, to estimate the cost of group walks.
    pub groups: Vec<String>,
}

impl Wanted {
    pub fn from_manifest(manifest: &crate::manifest::ValidManifest) -> Self {
        let mut attributes = BTreeSet::new();
        let users = manifest
            .users
            .iter()
            .map(|user| {
                attributes.extend(user.attributes.keys().map(str::to_owned));
                WantedUser {
                    username: user.username.clone(),
                    sign_in: SIGN_IN_ATTRIBUTES
                        .iter()
                        .filter_map(|a| user.attributes.get(a).map(|v| ((*a).to_owned(), v.to_owned())))
                        .collect(),
                    groups: user.groups.clone(),
                }
            })
            .collect();
        Wanted { users, attributes, groups: manifest.referenced_groups() }
    }

    /// How many declared users list each group.
    pub fn declared_members(&self) -> BTreeMap<&str, u64> {
        let mut members: BTreeMap<&str, u64> = self.groups.iter().map(|g| (g.as_str(), 0)).collect();
        for user in &self.users {
            for group in &user.groups {
                *members.entry(group.as_str()).or_default() += 1;
            }
        }
        members
    }

    /// How many look-up requests finding every wanted user costs in a pool that signs in by
    /// `username_attributes` (none: one `AdminGetUser` each; otherwise one filtered
    /// `ListUsers` per sign-in value the user has). `None` when some value cannot be
    /// looked up (a filter is at most 256 characters).
    pub fn look_up_cost(&self, username_attributes: &[String]) -> Option<u64> {
        if username_attributes.is_empty() {
            return Some(self.users.len() as u64);
        }
        let mut cost = 0;
        for user in &self.users {
            for attribute in username_attributes {
                if let Some(value) = user.sign_in.get(attribute) {
                    filter_for(attribute, value)?;
                    cost += 1;
                }
            }
        }
        Some(cost)
    }
}

/// The `ListUsers` filter that finds `value` exactly, or `None` when it would be longer
/// than Cognito's 256 characters. \[MODEL: ListUsers.Filter\]
pub fn filter_for(attribute: &str, value: &str) -> Option<String> {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    let filter = format!("{attribute} = \"{escaped}\"");
    (filter.chars().count() <= 256).then_some(filter)
}

/// `ListUsers` returns at most 60 users a page. \[MODEL\]
pub const PAGE_SIZE: u64 = 60;

/// Pages a full walk of a pool of `estimated` users takes (at least one request).
pub fn walk_cost(estimated: u64) -> u64 {
    estimated.div_ceil(PAGE_SIZE).max(1)
}

/// How a full walk reads the pool: one `ListUsers` chain per entry of `prefixes` (`None`: the
/// whole pool; `Some(p)`: the users whose `sub` starts with `p`), at most `chains` at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkLayout {
    pub prefixes: Vec<Option<String>>,
    pub chains: usize,
}

/// Below this many pages a walk is one chain: partitions cost up to a page each.
pub const PARALLEL_MIN_PAGES: u64 = 64;
/// Chains read at once: enough to reach the UserList quota at a few hundred milliseconds
/// a page (30/s × 0.5 s = 15 in flight).
pub const MAX_CHAINS: usize = 16;
/// How long a chain may run: a pagination token lives an hour \[LISTUSERS-GUIDE\], so a
/// partition is small enough to be read well within it.
pub const CHAIN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(40 * 60);

impl WalkLayout {
    /// One chain over the whole pool.
    pub fn single() -> Self {
        WalkLayout { prefixes: vec![None], chains: 1 }
    }

    /// The layout for a pool of about `estimated` users read at `rate` pages a second: one
    /// chain for a small pool; otherwise 16, 256 or 4,096 partitions by the leading hex
    /// digits of `sub` (a UUID), as few as keep every chain within [`CHAIN_LIFETIME`] when
    /// [`MAX_CHAINS`] share the rate, started in turn.
    pub fn for_pool(estimated: u64, rate: f64) -> Self {
        Self::with_chains(estimated, rate, MAX_CHAINS)
    }

    /// [`Self::for_pool`] with at most `max_chains` chains at once (at least one): `export`
    /// reads one partition at a time, so each chain has the whole rate, up to what one chain
    /// can reach ([`CHAIN_MAX_RATE`]).
    pub fn with_chains(estimated: u64, rate: f64, max_chains: usize) -> Self {
        let pages = walk_cost(estimated);
        if pages < PARALLEL_MIN_PAGES {
            return WalkLayout::single();
        }
        let max_chains = max_chains.max(1);
        let rate = rate.max(0.1);
        let mut digits = 1;
        while digits < 3 {
            let partitions = 16u64.pow(digits);
            let chains = (max_chains as u64).min(partitions) as f64;
            let per_chain = (rate / chains).min(CHAIN_MAX_RATE);
            let lifetime = (pages as f64 / partitions as f64) / per_chain;
            if lifetime <= CHAIN_LIFETIME.as_secs_f64() {
                break;
            }
            digits += 1;
        }
        let partitions = 16usize.pow(digits);
        let prefixes = (0..partitions).map(|i| Some(format!("{i:0width$x}", width = digits as usize))).collect();
        WalkLayout { prefixes, chains: max_chains.min(partitions) }
    }

    /// Pages a walk of a pool of about `estimated` users is expected to take: ceil(M/60),
    /// and up to one partly filled page more per partition.
    pub fn expected_pages(&self, estimated: u64) -> u64 {
        walk_cost(estimated) + self.prefixes.len() as u64
    }
}

/// Pages a second one chain can read at most, whatever the rate allows: its pages come one
/// after another, a few hundred milliseconds each at real latencies.
pub const CHAIN_MAX_RATE: f64 = 4.0;

/// The cheaper way to read: look-ups only when they take fewer requests than a walk. A tie
/// goes to the walk, which also counts the unmanaged users exactly.
pub fn choose_strategy(estimated: u64, look_up_cost: Option<u64>) -> ReadStrategy {
    match look_up_cost {
        Some(cost) if cost < walk_cost(estimated) => ReadStrategy::LookUp,
        _ => ReadStrategy::ListAll,
    }
}

/// The attributes whose values can stand in for the username (`UsernameAttributes`).
pub const SIGN_IN_ATTRIBUTES: [&str; 2] = ["email", "phone_number"];

/// How a sign-in attribute's values compare: email addresses case-insensitively (Cognito
/// searches them so), phone numbers exactly.
pub fn sign_in_key(attribute: &str, value: &str) -> String {
    if attribute == "email" { value.to_lowercase() } else { value.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheaper_strategy_wins_and_a_tie_walks() {
        assert_eq!(walk_cost(0), 1);
        assert_eq!(walk_cost(60), 1);
        assert_eq!(walk_cost(61), 2);
        assert_eq!(choose_strategy(100_000, Some(10)), ReadStrategy::LookUp);
        assert_eq!(choose_strategy(100_000, Some(1667)), ReadStrategy::ListAll);
        assert_eq!(choose_strategy(100_000, Some(1666)), ReadStrategy::LookUp);
        assert_eq!(choose_strategy(120, Some(2)), ReadStrategy::ListAll);
        assert_eq!(choose_strategy(100_000, None), ReadStrategy::ListAll);
    }

    #[test]
    fn the_cheaper_membership_read_wins_and_a_tie_reads_per_user() {
        assert_eq!(group_walk_cost(&[]), 0);
        assert_eq!(group_walk_cost(&[0, 1, 60, 61]), 1 + 1 + 1 + 2);
        assert_eq!(choose_membership_strategy(2, 500), MembershipStrategy::GroupWalk);
        assert_eq!(choose_membership_strategy(3, 3), MembershipStrategy::PerUser);
        assert_eq!(choose_membership_strategy(10, 2), MembershipStrategy::PerUser);
    }

    #[test]
    fn large_pools_are_walked_in_partitions_that_outlive_no_token() {
        assert_eq!(WalkLayout::for_pool(1_000, 30.0), WalkLayout::single());
        let layout = WalkLayout::for_pool(100_000, 30.0);
        assert_eq!(layout.prefixes.len(), 16);
        assert_eq!(layout.prefixes[10], Some("a".to_owned()));
        assert_eq!(layout.chains, 16);
        // the pool maximum, 40M users: 256 partitions of about 2,600 pages, 16 at a time
        // at 30/s, each read in about 23 minutes
        let layout = WalkLayout::for_pool(40_000_000, 30.0);
        assert_eq!(layout.prefixes.len(), 256);
        assert_eq!(layout.prefixes[255], Some("ff".to_owned()));
        assert_eq!(WalkLayout::for_pool(40_000_000, 2.0).prefixes.len(), 4096);
        // a chain that reads at most a few pages a second, however high the rate
        assert_eq!(WalkLayout::for_pool(40_000_000, 1000.0).prefixes.len(), 256);
    }

    #[test]
    fn one_partition_at_a_time_has_the_whole_rate_up_to_what_a_chain_reaches() {
        assert_eq!(WalkLayout::with_chains(3_000, 15.0, 1), WalkLayout::single());
        // 3M users: 16 partitions of 3,125 pages, about 13 minutes each at 4 pages a second
        let layout = WalkLayout::with_chains(3_000_000, 15.0, 1);
        assert_eq!((layout.prefixes.len(), layout.chains), (16, 1));
        // 40M users: 256 partitions of about 2,600 pages, 11 minutes each
        let layout = WalkLayout::with_chains(40_000_000, 15.0, 1);
        assert_eq!((layout.prefixes.len(), layout.chains), (256, 1));
        assert_eq!(WalkLayout::with_chains(40_000_000, 15.0, 0).chains, 1);
        assert_eq!(layout.expected_pages(40_000_000), 666_667 + 256);
    }

    #[test]
    fn filters_escape_quotes_and_respect_the_length_limit() {
        assert_eq!(filter_for("email", "a\"b@example.com").unwrap(), r#"email = "a\"b@example.com""#);
        assert!(filter_for("email", &"a".repeat(300)).is_none());
    }
}
