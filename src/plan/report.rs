//! The plan for machines: one versioned JSON document, printed by `plan --format json` and
//! saved by `plan -o PLAN.json`.
//!
//! Format, `schema_version: 1` (snake_case keys; additions are not breaking, removals are):
//!
//! - `schema_version` (1), `command` (`"plan"`), `tool` {`name`, `version`}
//! - `only_creates_users`: true when this plan only imports users (no group to create, no
//!   membership or enabled state to set); `apply_can`: what apply may do (`create_users`,
//!   `create_groups`, `add_memberships`, `set_enabled`); `statement`: the same in words —
//!   attributes of existing users and groups are never updated, nothing is deleted
//! - `personal_data`: `"masked"` or `"shown"`. Values of personal attributes (email, phone,
//!   names, address, birthdate...) are masked unless `--show-pii`; a saved plan always
//!   shows them (it is written with mode 0600), because `apply` imports exactly its rows.
//! - `manifest` {`path`, `digest`}: SHA-256 of the manifest file
//! - `pool` {`id`, `name`, `region`, `endpoint` (null unless overridden), `case_sensitive`,
//!   `username_attributes`, `auto_verified_attributes`, `mfa` (`OFF`/`ON`/`OPTIONAL`),
//!   `estimated_users`, `read_strategy` (`list_all` or `look_up`), `membership_read`
//!   (`group_walk`, `per_user`, or null when no membership was read)}
//! - `summary` {`to_import`, `to_change`, `in_sync`, `drifted`, `unmanaged`,
//!   `unmanaged_exact`, `groups_to_create`, `unmanaged_memberships`, `new_user_changes`,
//!   `existing_user_changes` (requests of the second phase; `--max-changes` limits the latter)}
//! - `groups_to_create[]` {`name`, `description`, `precedence`, `role_arn`} (null when unset)
//! - `to_import[]` {`index` (in the manifest's `users`), `username`, `attributes` {name:
//!   value}, `mfa_enabled`, `enabled`, `groups[]`, `password_hash` (bool)}
//! - `to_change[]` {`index`, `username`, `pool_username` (the name changes address),
//!   `add_groups[]`, `set_enabled` (null, or the state to set)}
//! - `group_drift[]` {`name`, `changes[]` {`attribute`, `pool`, `manifest`}}
//! - `drifted[]` {`index`, `username`, `pool_username`, `changes[]` {`attribute`, `pool`
//!   (null when unset), `manifest`}}
//! - `in_sync[]` {`index`, `username`, `pool_username`}
//! - `notes[]`: statements about this pool (e.g. undocumented import behaviour)
//! - `password_hashes`: null, or {`path`, `digest` (SHA-256 of the hash file), `per_algorithm`
//!   {`BCRYPT`: n, ...}, `without_hash`, `unused`}; `to_import[].password_hash` is true for
//!   a user who brings a hash. Never a hash itself: `rows` are the rows without hashes.
//! - `csv_header`: GetCSVHeader, verbatim; `rows`: the import CSV's data lines exactly as
//!   apply uploads them, in Cognito's dialect (null when personal data is masked)
//! - `role` (`import.role`, a name or an ARN), `scoped_trust` (`import.scoped_trust`),
//!   `post_import[]` (changes after the import; empty in this build): a saved plan is
//!   applied with these, not with the manifest's
//! - `plan_digest`: SHA-256 (hex) of every field `apply` acts on (pool id, name and region,
//!   role, scoped_trust, the users to import with their attributes, `csv_header`, `rows`,
//!   `post_import`, and the password-hash file's digest when there is one); see
//!   [`super::saved`]. Independent of masking.

use std::collections::BTreeMap;

use serde::Serialize;

use super::mask::shown;
use super::{APPLY_CAN, ONLY_CREATES, Plan};
use crate::pool::{MembershipStrategy, ReadStrategy, mfa_name};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct PlanReport<'a> {
    pub schema_version: u32,
    pub command: &'static str,
    pub tool: Tool,
    pub only_creates_users: bool,
    pub apply_can: [&'static str; 4],
    pub statement: &'static str,
    pub personal_data: &'static str,
    pub manifest: ManifestRef<'a>,
    pub pool: PoolReport<'a>,
    pub summary: Summary,
    pub groups_to_create: Vec<NewGroupReport<'a>>,
    pub to_import: Vec<NewUserReport<'a>>,
    pub to_change: Vec<ChangedReport<'a>>,
    pub group_drift: Vec<GroupDriftReport<'a>>,
    pub drifted: Vec<DriftedReport<'a>>,
    pub in_sync: Vec<SyncedReport<'a>>,
    pub notes: &'a [String],
    /// The password-hash file (null without `--password-hashes`).
    pub password_hashes: Option<HashesReport<'a>>,
    pub csv_header: &'a [String],
    pub rows: Option<Vec<&'a str>>,
    pub role: &'a str,
    pub scoped_trust: bool,
    pub post_import: Vec<super::saved::PostImportChange>,
    pub plan_digest: String,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ManifestRef<'a> {
    pub path: &'a str,
    pub digest: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PoolReport<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub endpoint: Option<&'a str>,
    pub case_sensitive: bool,
    pub username_attributes: &'a [String],
    pub auto_verified_attributes: &'a [String],
    pub mfa: &'static str,
    pub estimated_users: u64,
    pub read_strategy: ReadStrategy,
    pub membership_read: Option<MembershipStrategy>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub to_import: usize,
    pub to_change: usize,
    pub in_sync: usize,
    pub drifted: usize,
    pub unmanaged: u64,
    pub unmanaged_exact: bool,
    pub groups_to_create: usize,
    pub unmanaged_memberships: u64,
    pub new_user_changes: usize,
    pub existing_user_changes: usize,
}

#[derive(Debug, Serialize)]
pub struct NewGroupReport<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub precedence: Option<i64>,
    pub role_arn: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ChangedReport<'a> {
    pub index: usize,
    pub username: &'a str,
    pub pool_username: &'a str,
    pub add_groups: &'a [String],
    pub set_enabled: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct GroupDriftReport<'a> {
    pub name: &'a str,
    pub changes: Vec<ChangeReport<'a>>,
}

/// A new user's attributes as the report shows them (masked unless `show_pii`), by name:
/// written while the report is serialized, not held as a copy.
#[derive(Debug, Clone, Copy)]
pub struct ShownAttributes<'a> {
    pub attributes: &'a crate::manifest::Attributes,
    pub show_pii: bool,
}

impl Serialize for ShownAttributes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.attributes.iter().map(|(k, v)| (k, shown(k, v, self.show_pii))))
    }
}

#[derive(Debug, Serialize)]
pub struct NewUserReport<'a> {
    pub index: usize,
    pub username: &'a str,
    pub attributes: ShownAttributes<'a>,
    pub mfa_enabled: bool,
    pub enabled: bool,
    pub groups: &'a [String],
    /// Whether the user brings a password hash (SPEC §9); never the hash.
    pub password_hash: bool,
}

/// The hash file a plan was made with: its path and digest, and counts; never a hash.
#[derive(Debug, Serialize)]
pub struct HashesReport<'a> {
    pub path: &'a str,
    pub digest: &'a str,
    /// Users to import with a hash, by algorithm (`BCRYPT`...).
    pub per_algorithm: BTreeMap<&'static str, usize>,
    /// Users to import without a hash: they must reset their password.
    pub without_hash: usize,
    /// Hashes of users already in the pool: not used.
    pub unused: usize,
}

#[derive(Debug, Serialize)]
pub struct DriftedReport<'a> {
    pub index: usize,
    pub username: &'a str,
    pub pool_username: &'a str,
    pub changes: Vec<ChangeReport<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ChangeReport<'a> {
    pub attribute: &'a str,
    pub pool: Option<String>,
    pub manifest: String,
}

#[derive(Debug, Serialize)]
pub struct SyncedReport<'a> {
    pub index: usize,
    pub username: &'a str,
    pub pool_username: &'a str,
}

/// Builds the report; personal values are masked unless `show_pii`.
pub fn report(plan: &Plan, show_pii: bool) -> PlanReport<'_> {
    let rows = plan.rows();
    let plan_digest = super::saved::plan_digest(plan, &rows);
    let pool = &plan.pool;
    PlanReport {
        schema_version: SCHEMA_VERSION,
        command: "plan",
        tool: Tool { name: env!("CARGO_PKG_NAME"), version: env!("CARGO_PKG_VERSION") },
        only_creates_users: plan.groups_to_create.is_empty()
            && plan.to_change.is_empty()
            && plan.new_user_changes() == 0,
        apply_can: APPLY_CAN,
        statement: ONLY_CREATES,
        personal_data: if show_pii { "shown" } else { "masked" },
        manifest: ManifestRef { path: &plan.manifest_path, digest: &plan.manifest_digest },
        pool: PoolReport {
            id: &pool.id,
            name: &pool.name,
            region: &pool.region,
            endpoint: pool.endpoint.as_deref(),
            case_sensitive: pool.case_sensitive,
            username_attributes: &pool.username_attributes,
            auto_verified_attributes: &pool.auto_verified,
            mfa: mfa_name(pool.mfa),
            estimated_users: pool.estimated_users,
            read_strategy: pool.read,
            membership_read: pool.memberships,
        },
        summary: Summary {
            to_import: plan.to_import.len(),
            to_change: plan.to_change.len(),
            in_sync: plan.in_sync.len(),
            drifted: plan.drifted.len(),
            unmanaged: plan.unmanaged.count,
            unmanaged_exact: plan.unmanaged.exact,
            groups_to_create: plan.groups_to_create.len(),
            unmanaged_memberships: plan.unmanaged_memberships,
            new_user_changes: plan.new_user_changes(),
            existing_user_changes: plan.existing_user_changes(),
        },
        groups_to_create: plan
            .groups_to_create
            .iter()
            .map(|g| NewGroupReport {
                name: &g.name,
                description: g.description.as_deref(),
                precedence: g.precedence,
                role_arn: g.role_arn.as_deref(),
            })
            .collect(),
        to_change: plan
            .to_change
            .iter()
            .map(|u| ChangedReport {
                index: u.index,
                username: &u.username,
                pool_username: &u.pool_username,
                add_groups: &u.add_groups,
                set_enabled: u.set_enabled,
            })
            .collect(),
        group_drift: plan
            .group_drift
            .iter()
            .map(|g| GroupDriftReport {
                name: &g.name,
                changes: g
                    .changes
                    .iter()
                    .map(|c| ChangeReport {
                        attribute: &c.attribute,
                        pool: c.pool.clone(),
                        manifest: c.manifest.clone(),
                    })
                    .collect(),
            })
            .collect(),
        to_import: plan
            .to_import
            .iter()
            .map(|u| NewUserReport {
                index: u.index,
                username: &u.username,
                attributes: ShownAttributes { attributes: &u.attributes, show_pii },
                mfa_enabled: u.mfa_enabled,
                enabled: u.enabled,
                groups: &u.groups,
                password_hash: u.password_hash.is_some(),
            })
            .collect(),
        drifted: plan
            .drifted
            .iter()
            .map(|u| DriftedReport {
                index: u.index,
                username: &u.username,
                pool_username: &u.pool_username,
                changes: u
                    .changes
                    .iter()
                    .map(|c| ChangeReport {
                        attribute: &c.attribute,
                        pool: c.pool.as_ref().map(|v| shown(&c.attribute, v, show_pii)),
                        manifest: shown(&c.attribute, &c.manifest, show_pii),
                    })
                    .collect(),
            })
            .collect(),
        in_sync: plan
            .in_sync
            .iter()
            .map(|u| SyncedReport { index: u.index, username: &u.username, pool_username: &u.pool_username })
            .collect(),
        notes: &plan.notes,
        password_hashes: plan.password_hashes.as_ref().map(|h| HashesReport {
            path: &h.path,
            digest: &h.digest,
            per_algorithm: h.per_algorithm.iter().map(|(a, n)| (a.name(), *n)).collect(),
            without_hash: plan.to_import.len() - h.per_algorithm.values().sum::<usize>(),
            unused: h.unused,
        }),
        csv_header: &plan.csv_header,
        rows: show_pii.then_some(rows),
        role: &plan.role,
        scoped_trust: plan.scoped_trust,
        post_import: {
            let mut items = crate::changes::Target::from_plan(plan).to_post_import();
            if !show_pii {
                for item in &mut items {
                    if let super::saved::PostImportChange::User { sign_in, .. } = item {
                        sign_in.clear();
                    }
                }
            }
            items
        },
        plan_digest,
    }
}

/// The report as pretty JSON, with a final newline.
/// Writes the report as pretty JSON, then a newline, as it is serialized: a plan of many
/// users is never held as one string.
pub fn write_json(report: &PlanReport<'_>, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

pub fn to_json(report: &PlanReport<'_>) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("plain data serializes");
    text.push('\n');
    text
}
