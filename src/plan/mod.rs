//! The plan: every declared user sorted into to import, in sync or drifted, against one
//! snapshot of the pool, plus the checks that need the pool (SPEC §4).
//!
//! Pure: [`diff`] is a function of two values. It never calls AWS and never prints;
//! [`render`] and [`report`] turn a [`Plan`] into text, markdown and JSON.

pub mod mask;
pub mod render;
pub mod report;
pub mod saved;

use std::collections::{BTreeMap, HashMap};

use crate::import_file::{ImportFile, RowSource, build_files_from};
use crate::manifest::{DeclaredUser, ManifestPath, Problem, ValidManifest};
use crate::password_hashes::{Algorithm, HashFile};
use crate::pool::{
    MembershipStrategy, ObservedPool, ObservedUsers, PoolMfa, ReadStrategy, RemoteUser, Wanted, sign_in_key,
};

/// Problems beyond this many are reported by path only: locating one scans the manifest,
/// and a thousand carets help nobody more than fifty do.
const LOCATED_PROBLEMS: usize = 50;

/// What `plan` found. Users keep the manifest's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub pool: PoolInfo,
    /// SHA-256 of the manifest file.
    pub manifest_digest: String,
    /// The manifest's path, as given.
    pub manifest_path: String,
    /// The pool's CSV header (GetCSVHeader), verbatim.
    pub csv_header: Vec<String>,
    pub to_import: Vec<NewUser>,
    /// Existing users with a missing declared membership or another enabled state (§8).
    pub to_change: Vec<ChangedUser>,
    /// Declared groups missing from the pool: apply creates them.
    pub groups_to_create: Vec<NewGroup>,
    /// Declared groups that exist with other settings: never updated, shown for information.
    pub group_drift: Vec<GroupDrift>,
    pub in_sync: Vec<SyncedUser>,
    pub drifted: Vec<DriftedUser>,
    pub unmanaged: Unmanaged,
    /// Memberships of existing declared users, in the groups the manifest mentions, that the
    /// manifest does not declare: counted, never removed.
    pub unmanaged_memberships: u64,
    /// The CSV files an import would upload (one unless Cognito's per-file limits split it),
    /// built by [`crate::import_file`].
    pub import_files: Vec<ImportFile>,
    /// Statements the reader must see, e.g. undocumented Cognito behaviour for this pool.
    pub notes: Vec<String>,
    /// `import.role`: the shared import role, a name or an ARN.
    pub role: String,
    /// `import.scoped_trust`.
    pub scoped_trust: bool,
    /// The password-hash file, when the plan was made with one (SPEC §9).
    pub password_hashes: Option<PlanHashes>,
}

/// The pool as the plan describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    pub id: String,
    pub name: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub case_sensitive: bool,
    pub username_attributes: Vec<String>,
    pub auto_verified: Vec<String>,
    pub mfa: PoolMfa,
    pub estimated_users: u64,
    pub read: ReadStrategy,
    /// How memberships were read; `None` when none were needed.
    pub memberships: Option<MembershipStrategy>,
}

/// A declared user that is missing from the pool: the import job will create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub index: usize,
    pub username: String,
    /// The attributes the import sets, by Cognito name, in the manifest's canonical form.
    pub attributes: crate::manifest::Attributes,
    /// `cognito:mfa_enabled` as it will be written: the user's value and the pool's setting.
    pub mfa_enabled: bool,
    /// The declared enabled state: `false` disables the user right after its import.
    pub enabled: bool,
    /// The groups the user is added to after its import, sorted.
    pub groups: Vec<String>,
    /// The algorithm of the user's password hash, when the hash file has one (SPEC §9):
    /// the user imports CONFIRMED. Never the hash itself.
    pub password_hash: Option<Algorithm>,
}

/// An existing user that the second phase of apply changes: memberships to add and/or the
/// enabled state to set. Changes address `pool_username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedUser {
    pub index: usize,
    pub username: String,
    /// The pool's username for it (a UUID in pools that sign in by email or phone).
    pub pool_username: String,
    /// Declared groups the user is not in yet, sorted.
    pub add_groups: Vec<String>,
    /// `Some(state)` when the declared enabled state differs from the pool's.
    pub set_enabled: Option<bool>,
    /// The user's declared `email` / `phone_number`, to find it again in pools that sign in
    /// by them.
    pub sign_in: BTreeMap<String, String>,
}

impl ChangedUser {
    /// How many requests the change takes.
    pub fn requests(&self) -> usize {
        self.add_groups.len() + usize::from(self.set_enabled.is_some())
    }
}

/// A declared group that apply creates (CreateGroup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
}

/// A declared group whose settings in the pool differ; never updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDrift {
    pub name: String,
    pub changes: Vec<AttributeDrift>,
}

/// The hash file a plan was made with: what the plan may say about it (never a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanHashes {
    pub path: String,
    /// SHA-256 of the file: a saved plan records it, and `apply` refuses a changed file.
    pub digest: String,
    /// Users to import with a hash, per algorithm.
    pub per_algorithm: BTreeMap<Algorithm, usize>,
    /// Hashes of declared users that are already in the pool: not used.
    pub unused: usize,
}

/// A declared user that exists with every declared attribute as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedUser {
    pub index: usize,
    pub username: String,
    /// The pool's username for it (differs in case-insensitive pools and in pools that sign
    /// in by email or phone).
    pub pool_username: String,
}

/// A declared user that exists, but with declared attributes that differ. An import job
/// cannot update users: this is information, never a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftedUser {
    pub index: usize,
    pub username: String,
    pub pool_username: String,
    pub changes: Vec<AttributeDrift>,
}

/// One declared attribute whose value in the pool differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDrift {
    pub attribute: String,
    /// The value in the pool; `None` when the user has none.
    pub pool: Option<String>,
    /// The value the manifest declares.
    pub manifest: String,
}

/// Users in the pool that the manifest does not declare. Never touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmanaged {
    pub count: u64,
    /// False when the pool was read by look-ups: the count then comes from the pool's
    /// estimated size.
    pub exact: bool,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.to_import.is_empty() || !self.to_change.is_empty() || !self.groups_to_create.is_empty()
    }

    /// Requests the second phase sends for new users: a disable per new user declared
    /// `enabled: false`, an add per declared membership.
    pub fn new_user_changes(&self) -> usize {
        self.to_import.iter().map(|u| u.groups.len() + usize::from(!u.enabled)).sum()
    }

    /// Requests the second phase sends for existing users (what `--max-changes` limits).
    pub fn existing_user_changes(&self) -> usize {
        self.to_change.iter().map(ChangedUser::requests).sum()
    }

    /// Marks which new users bring a password hash, from a validated hash file (its
    /// usernames are all declared). The hashes stay in `hashes`: the plan holds only the
    /// algorithm per user, the file's path and digest.
    pub fn attach_hashes(&mut self, hashes: &HashFile) {
        let mut per_algorithm = BTreeMap::new();
        for user in &mut self.to_import {
            user.password_hash = hashes.algorithm_of(&user.username);
            if let Some(algorithm) = user.password_hash {
                *per_algorithm.entry(algorithm).or_insert(0) += 1;
            }
        }
        let used: usize = per_algorithm.values().sum();
        let unused = hashes.entries.len() - used;
        if unused > 0 {
            self.notes.push(format!(
                "{unused} password {} in `{}` {} users already in the pool: an import cannot change a password, so {} not used",
                if unused == 1 { "hash" } else { "hashes" },
                hashes.path,
                if unused == 1 { "is for one of the" } else { "are for" },
                if unused == 1 { "it is" } else { "they are" },
            ));
        }
        self.password_hashes =
            Some(PlanHashes { path: hashes.path.clone(), digest: hashes.digest.clone(), per_algorithm, unused });
    }

    /// The files apply uploads, one job each: with a hash file, one group per algorithm
    /// with the `password_hash` column ([`crate::import_file::with_hashes`]); otherwise
    /// the plain files. Returns the usernames whose row would be too long with its hash.
    pub fn upload_files(&self, hashes: Option<&HashFile>) -> Result<Vec<ImportFile>, Vec<String>> {
        match hashes {
            Some(hashes) => crate::import_file::with_hashes(&self.csv_header, &self.import_files, hashes),
            None => Ok(self.import_files.clone()),
        }
    }

    /// The data rows of the import CSV, exactly as written (Cognito's dialect), in order.
    pub fn rows(&self) -> Vec<&str> {
        self.import_files
            .iter()
            .flat_map(|file| std::str::from_utf8(&file.bytes).unwrap_or_default().lines().skip(1))
            .collect()
    }
}

/// The note every plan carries, in words; the JSON says it too.
pub const ONLY_CREATES: &str = "cognito-sync creates users, creates declared groups, adds declared memberships and sets the declared enabled state: attributes of existing users and existing groups are never updated, and nothing is ever deleted, whatever the drift";

/// What apply can do, as the JSON lists it.
pub const APPLY_CAN: [&str; 4] = ["create_users", "create_groups", "add_memberships", "set_enabled"];

/// Compares the manifest with the pool. Returns the plan, or every pool-aware problem of the
/// manifest (SPEC §4), located like `validate`'s.
pub fn diff(manifest: &ValidManifest, pool: &ObservedPool) -> Result<Plan, Vec<Problem>> {
    let remote = pool.users.users();
    let index = RemoteIndex::new(pool, remote);
    let mut problems = Vec::new();
    let mut to_import = Vec::new();
    let mut to_change = Vec::new();
    let mut unmanaged_memberships = 0u64;
    let mut in_sync = Vec::new();
    let mut drifted = Vec::new();
    let mut matched: Vec<bool> = vec![false; remote.len()];
    // In pools that sign in by email or phone, two declared users with one address would
    // both match (or both create) one user.
    let mut claimed: HashMap<usize, &DeclaredUser> = HashMap::new();
    let mut new_sign_in: HashMap<(String, String), &DeclaredUser> = HashMap::new();

    check_custom_attributes(manifest, pool, &mut problems);
    check_groups(manifest, pool, &mut problems);
    let (groups_to_create, group_drift) = diff_groups(manifest, pool);

    for user in &manifest.users {
        match index.find(pool, user) {
            Some(found) => {
                if let Some(first) = claimed.insert(found, user) {
                    problems.push(
                        Problem::new(
                            ManifestPath::user(user.index, ""),
                            format!(
                                "matches the same pool user as users[{}] `{}` (pool username `{}`)",
                                first.index, first.username, remote[found].username
                            ),
                        )
                        .for_user(&user.username)
                        .with_help(sign_in_help(pool)),
                    );
                    continue;
                }
                matched[found] = true;
                let remote_user = &remote[found];
                let changes = drift(user, remote_user);
                let add_groups: Vec<String> =
                    user.groups.iter().filter(|g| !remote_user.groups.contains(*g)).cloned().collect();
                unmanaged_memberships += remote_user.groups.iter().filter(|g| !user.groups.contains(*g)).count() as u64;
                let set_enabled = (user.enabled != remote_user.enabled).then_some(user.enabled);
                let changed = !add_groups.is_empty() || set_enabled.is_some();
                if changed {
                    to_change.push(ChangedUser {
                        index: user.index,
                        username: user.username.clone(),
                        pool_username: remote_user.username.clone(),
                        add_groups,
                        set_enabled,
                        sign_in: crate::pool::SIGN_IN_ATTRIBUTES
                            .iter()
                            .filter_map(|a| user.attributes.get(a).map(|v| ((*a).to_owned(), v.to_owned())))
                            .collect(),
                    });
                }
                if changes.is_empty() && changed {
                    // A change, no drift: neither in sync nor drifted.
                } else if changes.is_empty() {
                    in_sync.push(SyncedUser {
                        index: user.index,
                        username: user.username.clone(),
                        pool_username: remote_user.username.clone(),
                    });
                } else {
                    drifted.push(DriftedUser {
                        index: user.index,
                        username: user.username.clone(),
                        pool_username: remote_user.username.clone(),
                        changes,
                    });
                }
            }
            None => {
                let before = problems.len();
                check_new_user(manifest, pool, user, &mut problems);
                for attribute in &pool.username_attributes {
                    if let Some(value) = user.attributes.get(attribute) {
                        let key = (attribute.clone(), sign_in_key(attribute, value));
                        if let Some(first) = new_sign_in.insert(key, user) {
                            problems.push(
                                Problem::new(
                                    ManifestPath::user(user.index, attribute.as_str()),
                                    format!(
                                        "`{attribute}` is also the `{attribute}` of users[{}] `{}`, and this pool signs in by `{attribute}`",
                                        first.index, first.username
                                    ),
                                )
                                .for_user(&user.username)
                                .with_help(sign_in_help(pool)),
                            );
                        }
                    }
                }
                if problems.len() == before {
                    to_import.push(NewUser {
                        index: user.index,
                        username: user.username.clone(),
                        attributes: user.attributes.clone(),
                        mfa_enabled: match pool.mfa {
                            PoolMfa::Off => false,
                            PoolMfa::On => true,
                            PoolMfa::Optional => user.mfa_enabled.unwrap_or(false),
                        },
                        enabled: user.enabled,
                        groups: user.groups.clone(),
                        password_hash: None,
                    });
                }
            }
        }
    }
    if !to_import.is_empty() && pool.auto_verified.is_empty() {
        problems.push(
            Problem::new(
                ManifestPath::top("pool.id"),
                format!(
                    "pool `{}` has no auto-verified attributes, and Cognito does not start an import job for such a pool",
                    pool.id
                ),
            )
            .with_help("make `email` or `phone_number` an auto-verified attribute of the pool (console: sign-up experience, attribute verification)"),
        );
    }

    if !to_import.is_empty() {
        for column in &pool.csv_header {
            if let Some(why) = crate::import_file::unwritable_header_cell(column) {
                problems.push(
                    Problem::new(
                        ManifestPath::top("pool.id"),
                        format!("pool `{}` has the attribute `{column}`, which Cognito's CSV header cannot carry: {why}", pool.id),
                    )
                    .with_help(format!(
                        "an import file must name every attribute of the pool in its header, so users cannot be imported into this pool; import them into a pool without `{column}`, or create them another way (`aws cognito-idp admin-create-user`)"
                    )),
                );
            }
        }
    }

    let mut import_files = Vec::new();
    if problems.is_empty() {
        // Rows borrow the new users: copying them would double the plan's memory.
        let rows = to_import.iter().map(|u: &NewUser| RowSource {
            index: u.index,
            username: &u.username,
            attributes: &u.attributes,
            mfa_enabled: Some(u.mfa_enabled),
        });
        match build_files_from(&pool.csv_header, rows, pool.mfa) {
            Ok(files) => import_files = files,
            Err(too_long) => problems.extend(too_long.into_iter().map(|row| {
                Problem::new(
                    ManifestPath::user(row.index, ""),
                    format!(
                        "the user's import row has {} characters, more than Cognito's limit of {}",
                        row.chars,
                        crate::import_file::MAX_ROW_CHARS
                    ),
                )
                .for_user(&row.username)
                .with_help("shorten the user's attribute values")
            })),
        }
    }
    if !problems.is_empty() {
        locate(manifest, &mut problems);
        return Err(problems);
    }

    let matched_count = matched.iter().filter(|m| **m).count() as u64;
    let unmanaged = match &pool.users {
        ObservedUsers::All { total, .. } => Unmanaged { count: total.saturating_sub(matched_count), exact: true },
        ObservedUsers::Found(_) => {
            Unmanaged { count: pool.estimated_users.saturating_sub(matched_count), exact: false }
        }
    };
    let mut notes = Vec::new();
    if !pool.username_attributes.is_empty() {
        notes.push(format!(
            "pool `{}` signs in by {}: its usernames are generated UUIDs, so declared users are matched by {}, not by username; what Cognito's CSV import does in such a pool (what `cognito:username` must hold, whether it is replaced by a UUID) is undocumented",
            pool.id,
            join_code(&pool.username_attributes, " or "),
            join_code(&pool.username_attributes, " or "),
        ));
    }
    if !pool.alias_attributes.is_empty() && !to_import.is_empty() {
        notes.push(format!(
            "pool `{}` lets users sign in by the alias {}: what an import does with a row whose verified value is already another user's alias is undocumented",
            pool.id,
            join_code(&pool.alias_attributes, " or "),
        ));
    }
    if !pool.case_sensitive {
        notes.push(format!(
            "pool `{}` compares usernames case-insensitively: `Alice` and `alice` are one user",
            pool.id
        ));
    }
    if !unmanaged.exact {
        notes.push(
            "the unmanaged count comes from the pool's estimated size: only the declared users were looked up"
                .to_owned(),
        );
    }

    Ok(Plan {
        pool: PoolInfo {
            id: pool.id.clone(),
            name: pool.name.clone(),
            region: pool.region.clone(),
            endpoint: pool.endpoint.clone(),
            case_sensitive: pool.case_sensitive,
            username_attributes: pool.username_attributes.clone(),
            auto_verified: pool.auto_verified.clone(),
            mfa: pool.mfa,
            estimated_users: pool.estimated_users,
            read: pool.users.strategy(),
            memberships: pool.memberships,
        },
        manifest_digest: manifest.digest.clone(),
        manifest_path: manifest.source.display_name(),
        csv_header: pool.csv_header.clone(),
        to_import,
        to_change,
        groups_to_create,
        group_drift,
        in_sync,
        drifted,
        unmanaged,
        unmanaged_memberships,
        import_files,
        notes,
        role: manifest.role.clone(),
        scoped_trust: manifest.scoped_trust,
        password_hashes: None,
    })
}

/// The usernames of the `wanted` users that exist in `pool`, matched as [`diff`] matches
/// them (case, sign-in attributes); `apply` uses it to refuse a stale saved plan.
pub fn existing(wanted: &Wanted, pool: &ObservedPool) -> Vec<String> {
    let index = RemoteIndex::new(pool, pool.users.users());
    wanted
        .users
        .iter()
        .filter(|user| index.find_by(pool, &user.username, &user.sign_in).is_some())
        .map(|user| user.username.clone())
        .collect()
}

/// The `wanted` users found in `pool`, by declared username, each with its counterpart's
/// index in `pool.users.users()`, matched as [`diff`] matches them; `apply` reads its
/// planned users back with it.
pub fn found(wanted: &Wanted, pool: &ObservedPool) -> Vec<(String, usize)> {
    let remote = pool.users.users();
    let index = RemoteIndex::new(pool, remote);
    wanted
        .users
        .iter()
        .filter_map(|user| index.find_by(pool, &user.username, &user.sign_in).map(|i| (user.username.clone(), i)))
        .collect()
}

/// The declared `attributes` whose value in `remote` differs, compared as `plan` compares them.
pub fn attribute_drift<'a>(
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
    remote: &RemoteUser,
) -> Vec<AttributeDrift> {
    attributes
        .into_iter()
        .filter_map(|(name, declared)| {
            let actual = remote.attributes.get(name);
            match actual {
                Some(actual) if same_value(name, declared, actual) => None,
                _ => Some(AttributeDrift {
                    attribute: name.to_owned(),
                    pool: actual.map(str::to_owned),
                    manifest: declared.to_owned(),
                }),
            }
        })
        .collect()
}

/// Each `wanted` user's counterpart in `pool`, matched as [`diff`] matches them; the second
/// phase of apply uses it on the pool read back after the import.
pub fn matched<'a>(wanted: &Wanted, pool: &'a ObservedPool) -> Vec<Option<&'a RemoteUser>> {
    let remote = pool.users.users();
    let index = RemoteIndex::new(pool, remote);
    wanted.users.iter().map(|user| index.find_by(pool, &user.username, &user.sign_in).map(|i| &remote[i])).collect()
}

fn join_code(items: &[String], separator: &str) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(separator)
}

fn sign_in_help(pool: &ObservedPool) -> String {
    if pool.username_attributes.is_empty() {
        "declare each pool user once".to_owned()
    } else {
        format!(
            "in a pool that signs in by {}, each user needs its own address; declare each person once",
            join_code(&pool.username_attributes, " or ")
        )
    }
}

/// Finds declared users among the pool's users, the way the pool compares them.
struct RemoteIndex {
    by_key: HashMap<String, usize>,
}

impl RemoteIndex {
    fn new(pool: &ObservedPool, remote: &[RemoteUser]) -> Self {
        let mut by_key = HashMap::with_capacity(remote.len());
        for (i, user) in remote.iter().enumerate() {
            for key in pool.remote_keys(user) {
                by_key.entry(key).or_insert(i);
            }
        }
        RemoteIndex { by_key }
    }

    fn find(&self, pool: &ObservedPool, user: &DeclaredUser) -> Option<usize> {
        self.find_by(pool, &user.username, &user.attributes)
    }

    /// `attributes` needs only the sign-in attributes (`email`, `phone_number`).
    fn find_by(
        &self,
        pool: &ObservedPool,
        username: &str,
        attributes: &impl crate::manifest::AttributeLookup,
    ) -> Option<usize> {
        pool.declared_keys(username, attributes).iter().find_map(|key| self.by_key.get(key).copied())
    }
}

/// The declared attributes whose pool value differs. Only attributes the manifest declares
/// are compared; `mfa_enabled` is not an attribute and is never compared.
fn drift(user: &DeclaredUser, remote: &RemoteUser) -> Vec<AttributeDrift> {
    attribute_drift(&user.attributes, remote)
}

/// Whether a declared value (canonical form) equals the pool's stored value.
fn same_value(name: &str, declared: &str, actual: &str) -> bool {
    match name {
        // The manifest holds ISO dates; a user imported by CSV may hold `mm/dd/yyyy`.
        "birthdate" => us_to_iso_date(actual).as_deref().unwrap_or(actual) == declared,
        "email_verified" | "phone_number_verified" => actual.eq_ignore_ascii_case(declared),
        _ => actual == declared,
    }
}

/// `02/01/1985` → `1985-02-01`; `None` for anything else.
fn us_to_iso_date(us: &str) -> Option<String> {
    match us.split('/').collect::<Vec<_>>().as_slice() {
        [m, d, y] if m.len() == 2 && d.len() == 2 && y.len() == 4 => Some(format!("{y}-{m}-{d}")),
        _ => None,
    }
}

/// Custom attributes the pool does not define, wherever they are declared.
fn check_custom_attributes(manifest: &ValidManifest, pool: &ObservedPool, problems: &mut Vec<Problem>) {
    let defined: Vec<&str> = pool.schema.iter().filter(|(_, a)| a.custom).map(|(n, _)| n.as_str()).collect();
    // One problem per attribute, at the first user that has it: a name misspelt under
    // `defaults` (or copied into many users) is one mistake, not one per user.
    let mut users_of: BTreeMap<&str, Vec<&crate::manifest::DeclaredUser>> = BTreeMap::new();
    for user in &manifest.users {
        for name in user.attributes.keys() {
            if name.starts_with(crate::manifest::CUSTOM_PREFIX) && !pool.schema.contains_key(name) {
                users_of.entry(name).or_default().push(user);
            }
        }
    }
    for (name, users) in users_of {
        let Some(bare) = name.strip_prefix(crate::manifest::CUSTOM_PREFIX) else { continue };
        let user = users[0];
        let others = match users.len() {
            1 => String::new(),
            2 => " (also set for 1 other user)".to_owned(),
            n => format!(" (also set for {} other users)", n - 1),
        };
        // A typo of a defined attribute is the likely mistake: say which one first.
        let close = defined
            .iter()
            .filter_map(|n| n.strip_prefix(crate::manifest::CUSTOM_PREFIX))
            .filter(|known| strsim::jaro_winkler(known, bare) > 0.85)
            .max_by(|a, b| strsim::jaro_winkler(a, bare).total_cmp(&strsim::jaro_winkler(b, bare)));
        let help = match (close, defined.as_slice()) {
            (Some(known), _) => format!(
                "did you mean `{known}`? pool `{}` defines `custom:{known}`; otherwise add `{name}` to the pool (custom attributes cannot be removed later)",
                pool.id
            ),
            (None, []) => format!(
                "pool `{}` defines no custom attributes; add `{name}` to the pool, or remove it from the manifest",
                pool.id
            ),
            (None, names) => format!(
                "pool `{}` defines {}; add `{name}` to the pool (custom attributes cannot be removed later) or correct the name",
                pool.id,
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        problems.push(
            Problem::new(
                ManifestPath::user(user.index, format!("custom.{bare}")),
                format!("custom attribute `{name}` is not defined in pool `{}`{others}", pool.id),
            )
            .for_user(&user.username)
            .with_help(help),
        );
    }
}

/// Every group a user lists must be declared under `groups:` or exist in the pool.
fn check_groups(manifest: &ValidManifest, pool: &ObservedPool, problems: &mut Vec<Problem>) {
    for user in &manifest.users {
        for group in &user.groups {
            if manifest.groups.contains_key(group) || pool.groups.contains_key(group) {
                continue;
            }
            let close = manifest
                .groups
                .keys()
                .chain(pool.groups.keys())
                .filter(|known| strsim::jaro_winkler(known, group) > 0.85)
                .max_by(|a, b| strsim::jaro_winkler(a, group).total_cmp(&strsim::jaro_winkler(b, group)));
            let help = match close {
                Some(known) => {
                    format!("did you mean `{known}`? Otherwise declare `{group}` under `groups:` to create it")
                }
                None => format!(
                    "declare `{group}` under the top-level `groups:` so that apply creates it, or correct the name"
                ),
            };
            problems.push(
                Problem::new(
                    ManifestPath::user(user.index, "groups"),
                    format!("group `{group}` is neither declared under `groups:` nor in pool `{}`", pool.id),
                )
                .for_user(&user.username)
                .with_help(help),
            );
        }
    }
}

/// Declared groups to create, and declared groups whose settings in the pool differ.
fn diff_groups(manifest: &ValidManifest, pool: &ObservedPool) -> (Vec<NewGroup>, Vec<GroupDrift>) {
    let mut create = Vec::new();
    let mut drifted = Vec::new();
    for (name, declared) in &manifest.groups {
        let Some(remote) = pool.groups.get(name) else {
            create.push(NewGroup {
                name: name.clone(),
                description: declared.description.clone(),
                precedence: declared.precedence,
                role_arn: declared.role_arn.clone(),
            });
            continue;
        };
        let mut changes = Vec::new();
        let mut compare = |attribute: &str, pool: Option<String>, manifest: Option<String>| {
            if let Some(manifest) = manifest
                && pool.as_ref() != Some(&manifest)
            {
                changes.push(AttributeDrift { attribute: attribute.to_owned(), pool, manifest });
            }
        };
        compare("description", remote.description.clone(), declared.description.clone());
        compare("precedence", remote.precedence.map(|p| p.to_string()), declared.precedence.map(|p| p.to_string()));
        compare("role_arn", remote.role_arn.clone(), declared.role_arn.clone());
        if !changes.is_empty() {
            drifted.push(GroupDrift { name: name.clone(), changes });
        }
    }
    (create, drifted)
}

/// The checks that apply to a user the import would create.
fn check_new_user(manifest: &ValidManifest, pool: &ObservedPool, user: &DeclaredUser, problems: &mut Vec<Problem>) {
    let problem = |field: &str, message: String, help: String| {
        Problem::new(ManifestPath::user(user.index, field), message).for_user(&user.username).with_help(help)
    };
    if let Some(pattern) = &manifest.username_pattern
        && !pattern.regex.is_match(&user.username)
    {
        problems.push(problem(
            "username",
            format!(
                "new username `{}` does not match the team's `rules.username_pattern` `{}`",
                user.username, pattern.text
            ),
            "rename the user (Cognito would import it anyway); users already in the pool are exempt".to_owned(),
        ));
    }
    for (name, attribute) in &pool.schema {
        if !attribute.required || name == "sub" || user.attributes.contains_key(name) {
            continue;
        }
        let field = name.strip_prefix(crate::manifest::CUSTOM_PREFIX).map_or(name.clone(), |b| format!("custom.{b}"));
        problems.push(problem(
            "",
            format!("pool `{}` requires `{name}`, which this new user does not set", pool.id),
            format!("set `{field}` for the user (or in `defaults`); Cognito fails the row otherwise"),
        ));
    }
    for name in user.attributes.keys() {
        // A custom attribute the pool does not define is reported once, by
        // `check_custom_attributes`, with its own advice.
        let undefined_custom = name.starts_with(crate::manifest::CUSTOM_PREFIX) && !pool.schema.contains_key(name);
        if !undefined_custom && !pool.csv_header.iter().any(|c| crate::import_file::column_carries(c, name)) {
            problems.push(problem(
                &manifest_field(name),
                format!("pool `{}`'s import header has no column `{name}`", pool.id),
                "remove the attribute from this user: Cognito's import cannot set it in this pool".to_owned(),
            ));
        }
    }
    if !pool.auto_verified.is_empty() {
        let verified = pool.auto_verified.iter().any(|a| {
            user.attributes.get(&format!("{a}_verified")).is_some_and(|v| v == "true")
                && user.attributes.contains_key(a)
        });
        if !verified {
            let flags = pool.auto_verified.iter().map(|a| format!("`{a}_verified: true`")).collect::<Vec<_>>();
            problems.push(problem(
                "",
                format!(
                    "the new user sets none of pool `{}`'s auto-verified attributes ({}) to true",
                    pool.id,
                    join_code(&pool.auto_verified, ", ")
                ),
                format!(
                    "set {} with its value (e.g. in `defaults`); Cognito fails the row otherwise",
                    flags.join(" or ")
                ),
            ));
        }
    }
    match (pool.mfa, user.mfa_enabled) {
        (PoolMfa::Off, Some(true)) => problems.push(problem(
            "mfa_enabled",
            format!("`mfa_enabled: true` but MFA is off in pool `{}`", pool.id),
            "remove `mfa_enabled` or set it to false; Cognito fails the row otherwise".to_owned(),
        )),
        (PoolMfa::On, Some(false)) => problems.push(problem(
            "mfa_enabled",
            format!("`mfa_enabled: false` but MFA is required in pool `{}`", pool.id),
            "remove `mfa_enabled` or set it to true; Cognito fails the row otherwise".to_owned(),
        )),
        _ => {}
    }
    if !pool.username_attributes.is_empty() && !pool.username_attributes.iter().any(|a| user.attributes.contains_key(a))
    {
        problems.push(problem(
            "",
            format!(
                "pool `{}` signs in by {}, and the user has none, so it cannot be matched or signed in",
                pool.id,
                join_code(&pool.username_attributes, " or ")
            ),
            format!("set {} for the user", join_code(&pool.username_attributes, " or ")),
        ));
    }
}

/// The manifest field of a Cognito attribute name: `custom:x` is written `custom.x`.
fn manifest_field(name: &str) -> String {
    match name.strip_prefix(crate::manifest::CUSTOM_PREFIX) {
        Some(bare) => format!("custom.{bare}"),
        None => crate::manifest::standard_attribute_by_column(name).map_or(name.to_owned(), |a| a.field.to_owned()),
    }
}

/// Attaches a span to the first problems, as `validate` does.
fn locate(manifest: &ValidManifest, problems: &mut [Problem]) {
    problems.sort_by(|a, b| (a.path.user, &a.path.field).cmp(&(b.path.user, &b.path.field)));
    for problem in problems.iter_mut().take(LOCATED_PROBLEMS) {
        if let Some(index) = problem.path.user {
            let field = (!problem.path.field.is_empty()).then_some(problem.path.field.as_str());
            problem.span = manifest.locate_user(index, field);
        }
    }
}

#[cfg(test)]
mod tests;
