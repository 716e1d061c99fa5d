//! The checks that need no network: every problem of a manifest, gathered in one pass.
//!
//! The output is a [`ValidManifest`]: users with defaults applied and every value in the
//! canonical text form Cognito stores. Checks that need the pool (custom attributes it
//! defines, its required attributes, the username rule for new users) live in `plan`.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

use super::load::{RawManifest, RawUsers, Salvaged, parse_item, parse_items, parse_user};
use super::problem::{ManifestError, ManifestPath, Problem, SourceText};
use super::source_map::{Segment, SourceMap};
use super::{AttrKind, CUSTOM_PREFIX, RawValue, StandardAttribute, UserSpec};

/// Cognito's limit on one attribute value. \[ATTR\] \[MODEL: AttributeValueType\]
pub const MAX_VALUE_CHARS: usize = 2048;
/// Cognito's limit on a username. \[MODEL: UsernameType\]
pub const MAX_USERNAME_CHARS: usize = 128;
/// Cognito's limit on a custom attribute name. \[ATTR\]
pub const MAX_CUSTOM_NAME_CHARS: usize = 20;
/// Cognito's limit on a group name. \[MODEL: GroupNameType\]
pub const MAX_GROUP_NAME_CHARS: usize = 128;
/// Cognito's limit on a group description. \[MODEL: DescriptionType\]
pub const MAX_GROUP_DESCRIPTION_CHARS: usize = 2048;
/// How many groups one user can belong to. \[QUOTAS\] (reference §10)
pub const MAX_GROUPS_PER_USER: usize = 100;
/// How many groups one pool can hold. \[QUOTAS\] (reference §10)
pub const MAX_GROUPS_PER_POOL: usize = 10_000;
/// PrecedenceType: a non-negative 32-bit integer. \[MODEL\]
pub const MAX_PRECEDENCE: i64 = i32::MAX as i64;

/// Cognito's UsernameType and CustomAttributeNameType: letters, marks, symbols, numbers
/// and punctuation, no separators. \[MODEL\]
static COGNITO_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$").expect("valid regex"));
/// E.164 as Cognito documents it: `+`, country code, digits only. \[ATTR\]
static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{3,14}$").expect("valid regex"));
/// UserPoolIdType. \[MODEL\]
static POOL_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w-]+_[0-9a-zA-Z]+$").expect("valid regex"));
/// Whether `id` has the form of a user pool id: a region, `_`, letters and digits.
pub fn is_pool_id(id: &str) -> bool {
    POOL_ID.is_match(id) && id.split_once('_').is_some_and(|(region, _)| REGION.is_match(region))
}

static REGION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$").expect("valid regex"));
static ROLE_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w+=,.@-]{1,64}$").expect("valid regex"));
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$").expect("valid regex")
});

/// SHA-256 of a manifest file, hex: what a saved plan records to detect a changed manifest.
pub fn digest(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A manifest that passed every offline check.
#[derive(Debug, Clone)]
pub struct ValidManifest {
    pub source: SourceText,
    /// SHA-256 of the manifest file, hex; a saved plan records it to detect a changed manifest.
    pub digest: String,
    pub pool_id: String,
    pub region: String,
    /// The shared import role, as written (a name or an ARN).
    pub role: String,
    pub scoped_trust: bool,
    pub username_pattern: Option<UsernamePattern>,
    /// The top-level `groups:` map: the groups the pool must have.
    pub groups: BTreeMap<String, DeclaredGroup>,
    pub users: Vec<DeclaredUser>,
}

/// One group declared under `groups:`, with the settings CreateGroup is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredGroup {
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
}

impl ValidManifest {
    /// Every group name the manifest mentions: declared under `groups:` or listed by a user.
    pub fn referenced_groups(&self) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> = self.groups.keys().cloned().collect();
        for user in &self.users {
            names.extend(user.groups.iter().cloned());
        }
        names
    }
}

/// The team's username rule, compiled.
#[derive(Debug, Clone)]
pub struct UsernamePattern {
    pub text: String,
    pub regex: Regex,
}

/// One declared user with defaults applied and values in Cognito's stored form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredUser {
    /// Position in `users`, for messages that point back into the manifest.
    pub index: usize,
    pub username: String,
    /// Attribute values by Cognito name (`email`, `custom:department`), without
    /// `cognito:username` and `cognito:mfa_enabled`. Booleans are `true`/`false`,
    /// `birthdate` is ISO `YYYY-MM-DD`, `updated_at` is epoch seconds.
    pub attributes: super::Attributes,
    pub mfa_enabled: Option<bool>,
    /// The declared enabled state (`enabled`, else `defaults.enabled`, else true).
    pub enabled: bool,
    /// The groups the user must belong to (`groups`, else `defaults.groups`), sorted.
    pub groups: Vec<String>,
}

impl ValidManifest {
    /// Locates `users[index]` (and a field of it) in the manifest text, for later checks.
    pub fn locate_user(&self, index: usize, field: Option<&str>) -> Option<miette::SourceSpan> {
        let map = SourceMap::new(&self.source.text, self.users.len());
        let mut path = vec![Segment::Key("users"), Segment::Index(index)];
        if let Some(field) = field {
            path.extend(field.split('.').map(Segment::Key));
        }
        map.locate(&path)
    }
}

/// Checks a loaded manifest; returns every problem at once.
/// How many users are parsed in one go: small enough that serde_yaml's event buffer stays
/// small, large enough that the per-call overhead does not show.
const USERS_PER_SLICE: usize = 256;
/// From how many users slices are parsed on several threads.
const PARALLEL_FROM: usize = 8192;

pub fn validate(source: &SourceText, raw: RawManifest) -> Result<ValidManifest, ManifestError> {
    let RawManifest { head: raw_head, users: raw_users, problems } = raw;
    let mut raw = RawTop { head: raw_head, users: raw_users };
    let mut checker = Checker { source, map: OnceCell::new(), user_count: raw.users.len(), problems };
    let (pool_id, region) = checker.pool(&raw);
    let role = raw.head.import.role_or_default().to_owned();
    checker.role(&role, raw.head.import.role.is_some());
    let username_pattern = checker.username_pattern(raw.head.rules.username_pattern.as_deref());

    // Defaults are checked once, where they are written, not once per user.
    let defaults = std::mem::take(&mut raw.head.defaults);
    let mut default_values = BTreeMap::new();
    for (attribute, value) in defaults.standard_values() {
        let path = ManifestPath::top(format!("defaults.{}", attribute.field));
        if let Some(text) = checker.value(attribute, &value, path, None) {
            default_values.insert(attribute.column, text);
        }
    }
    let mut default_custom = BTreeMap::new();
    for (name, value) in &defaults.custom {
        let path = ManifestPath::top(format!("defaults.custom.{name}"));
        if checker.custom(name, value, path, None) {
            default_custom.insert(format!("{CUSTOM_PREFIX}{name}"), value.clone());
        }
    }

    let groups = checker.groups(&raw.head.groups);
    let default_groups = match &defaults.groups {
        Some(list) => checker.group_list(list, ManifestPath::top("defaults.groups"), None),
        None => Some(Vec::new()),
    };
    let defaults_for_users = UserDefaults {
        values: default_values,
        custom: default_custom,
        enabled: defaults.enabled.unwrap_or(true),
        groups: default_groups.unwrap_or_default(),
    };

    let mut users = Vec::with_capacity(raw.users.len());
    let mut seen: HashMap<Box<str>, (usize, Option<Box<str>>)> = HashMap::with_capacity(raw.users.len());
    let mut accept =
        |checker: &mut Checker<'_>, index: usize, username: Option<&str>, parsed: Result<UserSpec, Box<Salvaged>>| {
            // Duplicates are looked for even in entries that fail to parse.
            if let Some(username) = username {
                checker.duplicate(&mut seen, index, username);
            }
            match parsed {
                Ok(spec) => {
                    checker.username(index, &spec.username);
                    if let Some(user) = checker.user(index, &spec, &defaults_for_users, false) {
                        users.push(user);
                    }
                }
                Err(salvaged) => {
                    for mut problem in salvaged.problems {
                        if problem.span.is_none() {
                            problem.span = checker.span(&problem.path);
                        }
                        checker.problems.push(problem);
                    }
                    // The other keys' values are still checked; the user is not kept.
                    if let Some(spec) = salvaged.partial {
                        checker.username(index, &spec.username);
                        checker.user(index, &spec, &defaults_for_users, true);
                    }
                }
            }
        };
    match &raw.users {
        RawUsers::Items { items, prefix } => {
            let text = &*source.text;
            // Slices are parsed on every core, then checked in order on this thread.
            // Threads pay off only on large manifests; a small one is parsed right here.
            let workers = match items.len() {
                n if n < PARALLEL_FROM => 1,
                _ => std::thread::available_parallelism().map_or(1, |n| n.get()).min(4),
            };
            let slices: Vec<&[std::ops::Range<usize>]> = items.chunks(USERS_PER_SLICE).collect();
            for (group_number, group) in slices.chunks(workers * 8).enumerate() {
                let parsed: Vec<Option<Vec<UserSpec>>> = if workers == 1 {
                    group.iter().map(|slice| parse_items(text, prefix, slice)).collect()
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = group
                            .chunks(group.len().div_ceil(workers))
                            .map(|part| {
                                scope.spawn(move || {
                                    part.iter().map(|s| parse_items(text, prefix, s)).collect::<Vec<_>>()
                                })
                            })
                            .collect();
                        handles.into_iter().flat_map(|h| h.join().expect("a parser thread panicked")).collect()
                    })
                };
                for (slice_number, (chunk, specs)) in group.iter().zip(parsed).enumerate() {
                    let base = (group_number * workers * 8 + slice_number) * USERS_PER_SLICE;
                    if let Some(specs) = specs {
                        for (offset, spec) in specs.into_iter().enumerate() {
                            let username = spec.username.clone();
                            accept(&mut checker, base + offset, Some(&username), Ok(spec));
                        }
                        continue;
                    }
                    for (offset, item) in chunk.iter().enumerate() {
                        match parse_item(text, prefix, item.clone(), base + offset) {
                            Ok(spec) => {
                                let username = spec.username.clone();
                                accept(&mut checker, base + offset, Some(&username), Ok(spec));
                            }
                            Err(salvaged) => {
                                let username = salvaged.username.clone();
                                accept(&mut checker, base + offset, username.as_deref(), Err(salvaged))
                            }
                        }
                    }
                }
            }
        }
        RawUsers::Values(values) => {
            for (index, value) in values.iter().enumerate() {
                let username = value.get("username").and_then(|v| v.as_str());
                let parsed = parse_user(index, value, checker.map());
                accept(&mut checker, index, username, parsed);
            }
        }
    }

    if !checker.problems.is_empty() {
        return Err(ManifestError::invalid(source, checker.problems));
    }
    Ok(ValidManifest {
        source: source.clone(),
        digest: digest(source.text.as_bytes()),
        pool_id,
        region,
        role,
        scoped_trust: raw.head.import.scoped_trust,
        username_pattern,
        groups,
        users,
    })
}

/// What `defaults` gives every user, checked once.
struct UserDefaults {
    values: BTreeMap<&'static str, String>,
    custom: BTreeMap<String, String>,
    enabled: bool,
    groups: Vec<String>,
}

/// The parts of a raw manifest, taken apart so that defaults can be moved out.
struct RawTop {
    head: super::Manifest<UserSpec>,
    users: RawUsers,
}

struct Checker<'a> {
    source: &'a SourceText,
    /// Built on the first problem: a valid manifest never pays for locating.
    map: OnceCell<SourceMap<'a>>,
    user_count: usize,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn map(&self) -> &SourceMap<'a> {
        self.map.get_or_init(|| SourceMap::new(&self.source.text, self.user_count))
    }

    fn span(&self, path: &ManifestPath) -> Option<miette::SourceSpan> {
        let mut segments = Vec::new();
        if let Some(i) = path.user {
            segments.extend([Segment::Key("users"), Segment::Index(i)]);
        }
        segments.extend(path.field.split('.').filter(|s| !s.is_empty()).map(Segment::Key));
        self.map().locate(&segments)
    }

    fn report(&mut self, path: ManifestPath, username: Option<&str>, message: String, help: impl Into<String>) {
        let mut problem = Problem::new(path, message).with_help(help);
        if let Some(name) = username {
            problem = problem.for_user(name);
        }
        problem.span = self.span(&problem.path);
        self.problems.push(problem);
    }

    fn push(&mut self, index: usize, username: &str, field: &str, message: String, help: impl Into<String>) {
        self.report(ManifestPath::user(index, field), Some(username), message, help);
    }

    fn pool(&mut self, raw: &RawTop) -> (String, String) {
        let id = raw.head.pool.id.trim();
        let prefix = id.split_once('_').map(|(region, _)| region).unwrap_or_default();
        if !is_pool_id(id) {
            self.report(
                ManifestPath::top("pool.id"),
                None,
                format!("`{id}` is not a user pool id"),
                "a pool id is the region, `_`, then letters and digits, e.g. `us-east-1_AbCdEf123` (see the pool's overview in the console)",
            );
        }
        let region = match &raw.head.pool.region {
            Some(region) if !REGION.is_match(region) => {
                self.report(
                    ManifestPath::top("pool.region"),
                    None,
                    format!("`{region}` is not an AWS region"),
                    "write a region such as `us-east-1`, or remove `pool.region`: the pool id's prefix names it",
                );
                region.clone()
            }
            Some(region) if !prefix.is_empty() && region != prefix => {
                self.report(
                    ManifestPath::top("pool.region"),
                    None,
                    format!("region `{region}` does not match the pool id `{id}`, which is in `{prefix}`"),
                    "remove `pool.region` (the pool id names the region), or correct the pool id",
                );
                region.clone()
            }
            Some(region) => region.clone(),
            None => prefix.to_owned(),
        };
        (id.to_owned(), region)
    }

    fn role(&mut self, role: &str, written: bool) {
        if written && !ROLE_NAME.is_match(role) && !ROLE_ARN.is_match(role) {
            self.report(
                ManifestPath::top("import.role"),
                None,
                format!("`{role}` is neither an IAM role name nor a role ARN"),
                "write a role name such as `cognito-sync-import` (letters, digits and `+=,.@_-`, at most 64) or an ARN `arn:aws:iam::123456789012:role/NAME`",
            );
        }
    }

    fn username_pattern(&mut self, pattern: Option<&str>) -> Option<UsernamePattern> {
        let text = pattern?;
        match Regex::new(text) {
            Ok(regex) => Some(UsernamePattern { text: text.to_owned(), regex }),
            Err(error) => {
                let detail = match &error {
                    regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().trim().to_owned(),
                    other => other.to_string(),
                };
                self.report(
                    ManifestPath::top("rules.username_pattern"),
                    None,
                    format!("`{text}` is not a valid regular expression: {detail}"),
                    "write a Rust `regex` pattern, in single quotes, e.g. '^[a-z][a-z0-9._-]{2,63}$'",
                );
                None
            }
        }
    }

    /// `seen` maps each folded username to its first index, and to the name as written
    /// only when that differs (rare): one string per user, not two (#10, memory).
    fn duplicate(&mut self, seen: &mut HashMap<Box<str>, (usize, Option<Box<str>>)>, index: usize, username: &str) {
        let folded = username.to_lowercase();
        let Some((first, first_name)) = seen.get(folded.as_str()) else {
            let written = (folded != username).then(|| username.into());
            seen.insert(folded.into_boxed_str(), (index, written));
            return;
        };
        let first_name = first_name.as_deref().unwrap_or(&folded);
        let message = if first_name == username {
            format!("username `{username}` is declared twice (first at users[{first}])")
        } else {
            format!(
                "username `{username}` differs from users[{first}] `{first_name}` only in case; Cognito pools are case-insensitive by default, so the two would clash"
            )
        };
        self.push(index, username, "username", message, "declare each user once; remove or rename one of them");
    }

    fn username(&mut self, index: usize, username: &str) {
        let help = "a Cognito username is 1 to 128 letters, digits, symbols or punctuation, without spaces";
        if username.is_empty() {
            self.push(index, username, "username", "the username is empty".to_owned(), help);
        } else if username.chars().count() > MAX_USERNAME_CHARS {
            self.push(
                index,
                username,
                "username",
                format!("the username is longer than {MAX_USERNAME_CHARS} characters"),
                help,
            );
        } else if username.contains('\\') {
            self.push(
                index,
                username,
                "username",
                "the username contains `\\`, which Cognito's CSV has no documented way to write".to_owned(),
                "remove the backslash",
            );
        } else if wrapped_in_quotes(username) {
            self.push(
                index,
                username,
                "username",
                format!("username `{username}` is wrapped in double quotes"),
                QUOTES_HELP,
            );
        } else if !is_cognito_name(username) {
            self.push(
                index,
                username,
                "username",
                format!("username `{}` has a space or a character Cognito does not allow", username.escape_debug()),
                help,
            );
        }
    }

    /// Checks one declared value; returns its canonical text, or `None` after reporting.
    fn value(
        &mut self,
        attribute: &StandardAttribute,
        value: &RawValue<'_>,
        path: ManifestPath,
        username: Option<&str>,
    ) -> Option<String> {
        match check_value(attribute, value) {
            Ok(text) => Some(text),
            Err((message, help)) => {
                self.report(path, username, message, help);
                None
            }
        }
    }

    fn custom(&mut self, name: &str, value: &str, path: ManifestPath, username: Option<&str>) -> bool {
        let problem = if let Some(bare) = name.strip_prefix(CUSTOM_PREFIX) {
            Some((
                format!("custom attribute `{name}` repeats the `custom:` prefix"),
                format!("write `{bare}` inside `custom`"),
            ))
        } else if name.is_empty() || name.chars().count() > MAX_CUSTOM_NAME_CHARS || !is_cognito_name(name) {
            Some((
                format!("`{name}` is not a name Cognito allows for a custom attribute"),
                format!(
                    "a custom attribute name is 1 to {MAX_CUSTOM_NAME_CHARS} letters, digits, symbols or punctuation, without spaces"
                ),
            ))
        } else {
            check_text(value).err()
        };
        match problem {
            Some((message, help)) => {
                self.report(path, username, message, help);
                false
            }
            None => true,
        }
    }

    /// Checks one user's values, then the rules across its fields. `partial`: some keys
    /// of the entry could not be read, so only the values read are checked.
    fn user(&mut self, index: usize, spec: &UserSpec, defaults: &UserDefaults, partial: bool) -> Option<DeclaredUser> {
        let name = spec.username.as_str();
        let before = self.problems.len();
        let mut attributes: BTreeMap<String, String> =
            defaults.values.iter().map(|(column, value)| ((*column).to_owned(), value.clone())).collect();
        attributes.extend(defaults.custom.iter().map(|(k, v)| (k.clone(), v.clone())));
        let groups = match &spec.groups {
            Some(list) => self.group_list(list, ManifestPath::user(index, "groups"), Some(name)).unwrap_or_default(),
            None => defaults.groups.clone(),
        };
        for (attribute, value) in spec.standard_values() {
            if let Some(text) = self.value(attribute, &value, ManifestPath::user(index, attribute.field), Some(name)) {
                attributes.insert(attribute.column.to_owned(), text);
            }
        }
        for (custom_name, value) in &spec.custom {
            if self.custom(custom_name, value, ManifestPath::user(index, format!("custom.{custom_name}")), Some(name)) {
                attributes.insert(format!("{CUSTOM_PREFIX}{custom_name}"), value.clone());
            }
        }
        let mfa_enabled = attributes.remove(super::MFA_COLUMN).map(|v| v == "true");
        if partial || self.problems.len() != before {
            // A value was rejected: rules across fields would only repeat it.
            return None;
        }
        let is_true = |column: &str| attributes.get(column).is_some_and(|v| v == "true");
        let has = |column: &str| attributes.contains_key(column);
        if !has("email") && !has("phone_number") {
            self.push(
                index,
                name,
                "",
                "the user has neither `email` nor `phone_number`".to_owned(),
                "add `email` (with `email_verified: true`) or `phone_number`: Cognito's import needs a verified contact for each user",
            );
        }
        if mfa_enabled == Some(true) && !has("phone_number") {
            self.push(
                index,
                name,
                "mfa_enabled",
                "`mfa_enabled: true` needs a phone number".to_owned(),
                "add `phone_number` (Cognito sends SMS MFA codes to it) or set `mfa_enabled: false`",
            );
        }
        for (flag, target) in [("email_verified", "email"), ("phone_number_verified", "phone_number")] {
            if is_true(flag) && !has(target) {
                self.push(
                    index,
                    name,
                    flag,
                    format!("`{flag}: true` but the user has no `{target}`"),
                    format!("add `{target}`, or remove `{flag}`"),
                );
            }
        }
        (self.problems.len() == before).then(|| DeclaredUser {
            index,
            username: spec.username.clone(),
            attributes: attributes.into(),
            mfa_enabled,
            enabled: spec.enabled.unwrap_or(defaults.enabled),
            groups,
        })
    }

    /// Checks the top-level `groups:` map.
    fn groups(&mut self, groups: &BTreeMap<String, Option<super::GroupSpec>>) -> BTreeMap<String, DeclaredGroup> {
        if groups.len() > MAX_GROUPS_PER_POOL {
            self.report(
                ManifestPath::top("groups"),
                None,
                format!("{} groups are declared; a Cognito pool holds at most {MAX_GROUPS_PER_POOL}", groups.len()),
                "declare fewer groups",
            );
        }
        let mut declared = BTreeMap::new();
        for (name, spec) in groups {
            let spec = spec.clone().unwrap_or_default();
            let path = |field: &str| {
                ManifestPath::top(if field.is_empty() {
                    format!("groups.{name}")
                } else {
                    format!("groups.{name}.{field}")
                })
            };
            let before = self.problems.len();
            if let Some((message, help)) = check_group_name(name) {
                self.report(path(""), None, message, help);
            }
            if let Some(description) = &spec.description {
                let chars = description.chars().count();
                if chars > MAX_GROUP_DESCRIPTION_CHARS {
                    self.report(
                        path("description"),
                        None,
                        format!("the description of group `{name}` is {chars} characters long"),
                        format!("Cognito stores at most {MAX_GROUP_DESCRIPTION_CHARS} characters; shorten it"),
                    );
                }
            }
            if let Some(precedence) = spec.precedence
                && !(0..=MAX_PRECEDENCE).contains(&precedence)
            {
                self.report(
                    path("precedence"),
                    None,
                    format!("precedence `{precedence}` of group `{name}` is out of range"),
                    format!("write a whole number from 0 to {MAX_PRECEDENCE}; lower wins"),
                );
            }
            if let Some(role_arn) = &spec.role_arn
                && !ROLE_ARN.is_match(role_arn)
            {
                self.report(
                    path("role_arn"),
                    None,
                    format!("`{role_arn}` is not an IAM role ARN"),
                    "write the role's ARN, e.g. `arn:aws:iam::123456789012:role/admins`",
                );
            }
            if self.problems.len() == before {
                declared.insert(
                    name.clone(),
                    DeclaredGroup {
                        description: spec.description,
                        precedence: spec.precedence,
                        role_arn: spec.role_arn,
                    },
                );
            }
        }
        declared
    }

    /// Checks one `groups:` list (a user's or `defaults`'); the sorted names, or `None` after
    /// reporting.
    fn group_list(&mut self, list: &[String], path: ManifestPath, username: Option<&str>) -> Option<Vec<String>> {
        let before = self.problems.len();
        let mut seen = std::collections::BTreeSet::new();
        for name in list {
            if let Some((message, help)) = check_group_name(name) {
                self.report(path.clone(), username, message, help);
            } else if !seen.insert(name.as_str()) {
                self.report(path.clone(), username, format!("group `{name}` is listed twice"), "list each group once");
            }
        }
        if seen.len() > MAX_GROUPS_PER_USER {
            self.report(
                path.clone(),
                username,
                format!("{} groups are listed; a Cognito user belongs to at most {MAX_GROUPS_PER_USER}", seen.len()),
                "list fewer groups",
            );
        }
        (self.problems.len() == before).then(|| seen.into_iter().map(str::to_owned).collect())
    }
}

/// Cognito's GroupNameType: 1 to 128 letters, marks, symbols, numbers or punctuation.
/// \[MODEL: GroupNameType\]
fn check_group_name(name: &str) -> Option<(String, String)> {
    let help = format!(
        "a Cognito group name is 1 to {MAX_GROUP_NAME_CHARS} letters, digits, symbols or punctuation, without spaces"
    );
    if name.is_empty() {
        Some(("a group name is empty".to_owned(), help))
    } else if name.chars().count() > MAX_GROUP_NAME_CHARS {
        Some((format!("group name `{name}` is longer than {MAX_GROUP_NAME_CHARS} characters"), help))
    } else if !is_cognito_name(name) {
        Some((format!("group name `{}` has a space or a character Cognito does not allow", name.escape_debug()), help))
    } else {
        None
    }
}

/// Checks one standard attribute value and returns Cognito's stored form of it.
fn check_value(attribute: &StandardAttribute, value: &RawValue<'_>) -> Result<String, (String, String)> {
    let field = attribute.field;
    match (attribute.kind, value) {
        (AttrKind::Bool, RawValue::Bool(b)) => Ok(b.to_string()),
        (AttrKind::Timestamp, RawValue::Timestamp(ts)) => match ts {
            super::Timestamp::Epoch(seconds) if *seconds >= 0 => Ok(seconds.to_string()),
            super::Timestamp::Epoch(seconds) => Err((
                format!("`{field}` is negative ({seconds})"),
                "write epoch seconds after 1970, or an RFC 3339 time such as `2024-05-01T12:00:00Z`".to_owned(),
            )),
            super::Timestamp::Rfc3339(text) => match text.parse::<jiff::Timestamp>() {
                Ok(t) => Ok(t.as_second().to_string()),
                Err(_) => Err((
                    format!("`{field}` value `{text}` is not an RFC 3339 timestamp"),
                    "write e.g. `2024-05-01T12:00:00Z`, or epoch seconds".to_owned(),
                )),
            },
        },
        (kind, RawValue::Text(text)) => {
            check_text(text).map_err(|(m, h)| (format!("`{field}` {m}"), h))?;
            match kind {
                AttrKind::Email if !is_email(text) => Err((
                    format!("`{text}` is not a valid email address"),
                    "write an address such as `alice@example.com`; Cognito fails the user otherwise".to_owned(),
                )),
                AttrKind::Phone if !E164.is_match(text) => Err((
                    format!("phone number `{text}` is not in E.164 form"),
                    "write `+`, the country code and the digits with no spaces or dashes, e.g. `'+15555550100'`"
                        .to_owned(),
                )),
                AttrKind::Date => match jiff::civil::Date::strptime("%Y-%m-%d", text) {
                    Ok(date) => Ok(date.to_string()),
                    Err(_) => Err((
                        format!("`{field}` value `{text}` is not a date in the form YYYY-MM-DD"),
                        "write e.g. `1985-02-01` (cognito-sync writes it as `02/01/1985` in Cognito's CSV)".to_owned(),
                    )),
                },
                _ => Ok((*text).to_owned()),
            }
        }
        (_, other) => {
            Err((format!("`{field}` has the wrong type ({other:?})"), "see the manifest reference".to_owned()))
        }
    }
}

/// Whether `name` matches Cognito's name pattern; ASCII names, the common case, skip the
/// Unicode regex.
fn is_cognito_name(name: &str) -> bool {
    if name.is_ascii() {
        return !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
    }
    COGNITO_NAME.is_match(name)
}

/// The name of a character that is not a control character but still breaks a line or a
/// field of Cognito's CSV: every Unicode line and paragraph separator (categories Zl and Zp),
/// and the byte-order mark, which Cognito's CSV must not contain. \[CSV\]
fn unwritable_in_csv(c: char) -> Option<&'static str> {
    match c {
        '\u{2028}' => Some("a Unicode LINE SEPARATOR"),
        '\u{2029}' => Some("a Unicode PARAGRAPH SEPARATOR"),
        '\u{FEFF}' => Some("a ZERO WIDTH NO-BREAK SPACE (byte-order mark)"),
        _ => None,
    }
}

/// Whether `value` starts and ends with `"`. Cognito's CSV takes values unquoted \[CSV\],
/// and whether its import keeps such a pair or strips it is undocumented (the conformance
/// kit's `quote_characters` probe): a value that lost its quotes would show as drift on every
/// `plan`, so validation refuses it and says how to write it. A quote elsewhere in a value is
/// carried as it is under both readings.
fn wrapped_in_quotes(value: &str) -> bool {
    value.len() >= 2 && value.starts_with('"') && value.ends_with('"')
}

const QUOTES_HELP: &str = "remove the surrounding quotes (YAML's own quotes, as in `name: \"Ann\"`, are not part of the value and are fine): Cognito does not document whether its import keeps or strips them, so the pool might never match the manifest";

/// The checks every text value needs before it can go into Cognito's CSV.
fn check_text(value: &str) -> Result<(), (String, String)> {
    if value.is_empty() {
        return Err(("is empty".to_owned(), "remove the key instead of leaving it empty".to_owned()));
    }
    if let Some(c) = value.chars().find(|&c| c.is_control() || unwritable_in_csv(c).is_some()) {
        let what = match c {
            '\n' | '\r' | '\u{85}' => "a line break".to_owned(),
            c if c.is_control() => "a control character".to_owned(),
            c => unwritable_in_csv(c).unwrap_or_default().to_owned(),
        };
        return Err((
            match c.is_control() {
                true => format!("contains {what} ({})", c.escape_debug()),
                false => format!("contains {what} (U+{:04X})", u32::from(c)),
            },
            "remove it: Cognito's CSV import has no documented way to carry it".to_owned(),
        ));
    }
    if wrapped_in_quotes(value) {
        return Err(("is wrapped in double quotes".to_owned(), QUOTES_HELP.to_owned()));
    }
    if value.contains('\\') {
        return Err((
            "contains `\\`".to_owned(),
            "remove the backslash: Cognito's CSV uses it to escape commas and documents no way to write a literal one"
                .to_owned(),
        ));
    }
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err((
            format!("is {chars} characters long"),
            format!("Cognito stores at most {MAX_VALUE_CHARS} characters in an attribute; shorten it"),
        ));
    }
    if value.trim() != value {
        return Err((
            "has leading or trailing spaces".to_owned(),
            "remove them: Cognito's import trims every value, so the pool would never match the manifest".to_owned(),
        ));
    }
    Ok(())
}

/// RFC 5322 syntax as the `email_address` crate checks it, plus a dotted domain: a bare
/// `alice@localhost` is valid syntax but never a deliverable address in a user pool.
fn is_email(text: &str) -> bool {
    match text.parse::<email_address::EmailAddress>() {
        Ok(address) => {
            let domain = address.domain();
            domain.contains('.') && !domain.starts_with('[') && !text.contains(' ') && !text.starts_with('"')
        }
        Err(_) => false,
    }
}

/// Deserializes `users.yaml`-shaped text into a raw manifest; a helper for tests.
#[cfg(test)]
fn check(text: &str) -> Result<ValidManifest, Vec<String>> {
    let source = SourceText { path: "users.yaml".into(), text: text.into() };
    let raw = super::load::parse(&source).map_err(|e| e.problems().map(|p| p.to_string()).collect::<Vec<_>>())?;
    validate(&source, raw).map_err(|e| e.problems().map(|p| p.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "version: 1\npool:\n  id: us-east-1_AbC123\nusers:\n";

    fn users(body: &str) -> Result<ValidManifest, Vec<String>> {
        check(&format!("{HEAD}{body}"))
    }

    #[test]
    fn a_valid_user_gets_defaults_and_canonical_values() {
        let manifest = check(
            "version: 1\npool:\n  id: eu-west-1_X1\ndefaults:\n  email_verified: true\n  locale: en\nusers:\n  - username: alice\n    email: alice@example.com\n    birthdate: 1985-02-01\n    updated_at: 2024-05-01T12:00:00Z\n    locale: fr\n    custom:\n      department: eng\n",
        )
        .unwrap();
        assert_eq!(manifest.region, "eu-west-1");
        assert_eq!(manifest.role, "cognito-sync-import");
        let alice = &manifest.users[0];
        assert_eq!(alice.attributes.get("email_verified"), Some("true"));
        assert_eq!(alice.attributes.get("locale"), Some("fr"));
        assert_eq!(alice.attributes.get("birthdate"), Some("1985-02-01"));
        assert_eq!(alice.attributes.get("updated_at"), Some("1714564800"));
        assert_eq!(alice.attributes.get("custom:department"), Some("eng"));
        assert_eq!(alice.mfa_enabled, None);
    }

    #[test]
    fn reports_every_problem_sorted() {
        let problems = users(
            "  - username: bob\n    email: bob@\n  - username: carol\n    phone_number: '555-0100'\n  - username: Bob\n    email: b@example.com\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].email (`bob`): `bob@` is not a valid email address",
                "users[1].phone_number (`carol`): phone number `555-0100` is not in E.164 form",
                "users[2].username (`Bob`): username `Bob` differs from users[0] `bob` only in case; Cognito pools are case-insensitive by default, so the two would clash",
            ]
        );
    }

    #[test]
    fn cross_field_rules() {
        let problems = users(
            "  - username: a\n    mfa_enabled: true\n    email: a@example.com\n  - username: b\n    given_name: B\n  - username: c\n    phone_number_verified: true\n    email: c@example.com\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].mfa_enabled (`a`): `mfa_enabled: true` needs a phone number",
                "users[1] (`b`): the user has neither `email` nor `phone_number`",
                "users[2].phone_number_verified (`c`): `phone_number_verified: true` but the user has no `phone_number`",
            ]
        );
    }

    #[test]
    fn values_cognito_cannot_carry() {
        let long = "x".repeat(2049);
        let problems = users(&format!(
            "  - username: a\n    email: a@example.com\n    address: \"1 Main St\\nSpringfield\"\n    nickname: {long}\n    website: ' padded'\n    family_name: 'back\\slash'\n"
        ))
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("`address` contains a line break"), "{problems:#?}");
    }

    // Probe `quote_characters`: whether Cognito keeps or strips a surrounding pair is
    // undocumented, so a wrapped value is refused; a quote anywhere else is fine.
    #[test]
    fn values_wrapped_in_double_quotes() {
        let problems = users(
            "  - username: '\"a\"'\n    email: a@example.com\n  - username: b\n    email: b@example.com\n    given_name: '\"Ann\"'\n    nickname: '\"\"'\n    custom:\n      note: '\"x\"'\n  - username: c\n    email: c@example.com\n    given_name: \"Ann\"\n    nickname: 'say \"hi\"'\n    family_name: '\"'\n    middle_name: 'O\"Brien'\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].username (`\"a\"`): username `\"a\"` is wrapped in double quotes",
                "users[1].given_name (`b`): `given_name` is wrapped in double quotes",
                "users[1].nickname (`b`): `nickname` is wrapped in double quotes",
                "users[1].custom.note (`b`): is wrapped in double quotes",
            ]
        );
    }

    // See: #10. They passed validation and went raw into the CSV.
    #[test]
    fn unicode_separators_and_the_byte_order_mark() {
        let problems = users(
            "  - username: a\n    email: a@example.com\n    address: \"1 Main St\\u2028Springfield\"\n    nickname: \"x\\u2029y\"\n    given_name: \"\\uFEFFAnn\"\n    custom:\n      note: \"a\\x85b\"\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].address (`a`): `address` contains a Unicode LINE SEPARATOR (U+2028)",
                "users[0].nickname (`a`): `nickname` contains a Unicode PARAGRAPH SEPARATOR (U+2029)",
                "users[0].given_name (`a`): `given_name` contains a ZERO WIDTH NO-BREAK SPACE (byte-order mark) (U+FEFF)",
                "users[0].custom.note (`a`): contains a line break (\\u{85})",
            ]
        );
    }

    #[test]
    fn type_errors_inside_users_are_located_and_all_reported() {
        let problems = users(
            "  - username: a\n    emial: a@example.com\n  - username: b\n    email: b@example.com\n    email_verified: yes\n  - username: c\n    phone_number: 15555550100\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].emial (`a`): unknown key `emial`",
                "users[1].email_verified (`b`): expected a boolean, found string \"yes\"",
                "users[2].phone_number (`c`): phone number `15555550100` is not in E.164 form",
            ]
        );
    }

    // See: #15. A type error hid the value errors of its own user and, in `defaults` or
    // `import`, of every user.
    #[test]
    fn type_errors_do_not_hide_value_errors() {
        let problems = check(
            "version: 1\npool:\n  id: us-east-1_AbC123\nimport:\n  scoped_trust: maybe\n  role: 'bad role'\ndefaults:\n  email_verified: maybe\n  locale: ' x'\nusers:\n  - username: a\n    email: nope\n    email_verified: maybe\n    phone_number: '12'\n    custom:\n      dept: 5\n      x: [1]\n      y: ' y'\n  - username: b\n    phone_number: '34'\n  - username: c\n    email: nope\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "import.scoped_trust: expected a boolean, found string \"maybe\"",
                "import.role: `bad role` is neither an IAM role name nor a role ARN",
                "defaults.email_verified: expected a boolean, found string \"maybe\"",
                "defaults.locale: `locale` has leading or trailing spaces",
                "users[0].email (`a`): `nope` is not a valid email address",
                "users[0].email_verified (`a`): expected a boolean, found string \"maybe\"",
                "users[0].phone_number (`a`): phone number `12` is not in E.164 form",
                "users[0].custom.x (`a`): expected a string, found sequence",
                "users[0].custom.y (`a`): has leading or trailing spaces",
                "users[1].phone_number (`b`): phone number `34` is not in E.164 form",
                "users[2].email (`c`): `nope` is not a valid email address",
            ]
        );
        // The same in flow style, where users are read as values.
        let problems =
            check("version: 1\npool: {id: us-east-1_AbC123}\nusers: [{username: a, email: nope, email_verified: maybe}, {username: c, email: nope}]\n")
                .unwrap_err();
        assert_eq!(
            problems,
            [
                "users[0].email (`a`): `nope` is not a valid email address",
                "users[0].email_verified (`a`): expected a boolean, found string \"maybe\"",
                "users[1].email (`c`): `nope` is not a valid email address",
            ]
        );
    }

    // See: #10. An anchor sent the whole manifest down the one-document path (2.5× the
    // memory); users that alias anchors defined above them are now parsed a slice at a time.
    #[test]
    fn anchors_above_the_users_and_aliases_in_them() {
        let text = "version: 1\npool:\n  id: us-east-1_AbC123\ndefaults:\n  locale: &loc en-US\nusers:\n  - username: a\n    email: a@example.com\n    given_name: &name Ann\n  - username: b\n    email: b@example.com\n    nickname: *loc\n";
        let source = SourceText { path: "users.yaml".into(), text: text.into() };
        let raw = super::super::load::parse(&source).unwrap();
        // An anchor among the users: the whole document is parsed as one.
        assert!(matches!(raw.users, RawUsers::Values(_)));
        let text = text.replace("&name ", "");
        let source = SourceText { path: "users.yaml".into(), text: text.as_str().into() };
        let raw = super::super::load::parse(&source).unwrap();
        assert!(matches!(&raw.users, RawUsers::Items { prefix, .. } if prefix.ends_with("en-US\nusers:\n")));
        let manifest = validate(&source, raw).unwrap();
        assert_eq!(manifest.users[1].attributes.get("nickname"), Some("en-US"));
        assert_eq!(manifest.users[1].attributes.get("locale"), Some("en-US"));
        // Problems are located in the file, not in the prefix.
        let problems = check(&format!("{text}  - username: c\n    email: nope\n    locale: *nosuch\n  - username: d\n    email_verified: *loc\n    email: d@x\n")).unwrap_err();
        assert_eq!(
            problems,
            [
                "users[2]: unknown anchor",
                "users[3].email_verified (`d`): expected a boolean, found string \"en-US\"",
                "users[3].email (`d`): `d@x` is not a valid email address",
            ]
        );
    }

    #[test]
    fn top_level_problems() {
        let problems = check(
            "version: 1\npool:\n  id: nope\n  region: eu-west-1\nimport:\n  role: 'bad role'\nrules:\n  username_pattern: '['\nusers: []\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems.iter().any(|p| p.starts_with("pool.id: `nope` is not a user pool id")));
        assert!(problems.iter().any(|p| p.starts_with("import.role:")));
        assert!(
            problems.iter().any(|p| p.starts_with("rules.username_pattern: `[` is not a valid regular expression"))
        );
    }

    #[test]
    fn region_must_match_the_pool_id() {
        let problems = check("version: 1\npool:\n  id: us-east-1_X1\n  region: eu-west-1\n").unwrap_err();
        assert_eq!(
            problems,
            ["pool.region: region `eu-west-1` does not match the pool id `us-east-1_X1`, which is in `us-east-1`"]
        );
    }

    #[test]
    fn versions_and_shapes() {
        assert_eq!(
            check("version: 2\npool: {id: x}\nfuture: true\n").unwrap_err(),
            ["version: manifest version `2` is not supported: cognito-sync 0.1.0 reads version 1"]
        );
        assert_eq!(check("pool: {id: us-east-1_X}\n").unwrap_err(), ["missing required key `version`"]);
        assert_eq!(check("# nothing\n\n").unwrap_err(), ["the manifest is empty"]);
        assert_eq!(
            check("- a\n- b\n").unwrap_err(),
            ["expected a mapping (`version: 1`, `pool`, `users`, ...), found sequence"]
        );
        assert_eq!(
            check("version: 1\npool: [\n").unwrap_err(),
            ["did not find expected node content, while parsing a flow node"]
        );
    }

    #[test]
    fn custom_attribute_names() {
        let problems = users(
            "  - username: a\n    email: a@example.com\n    custom:\n      'custom:dept': x\n      a_name_much_longer_than_twenty: y\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
    }

    #[test]
    fn groups_and_enabled_with_defaults() {
        let manifest = check(
            "version: 1\npool:\n  id: us-east-1_X1\ngroups:\n  staff:\n  admins:\n    description: Admins\n    precedence: 1\n    role_arn: arn:aws:iam::123456789012:role/admins\ndefaults:\n  groups: [staff]\n  enabled: true\nusers:\n  - username: a\n    email: a@example.com\n    groups: [staff, admins]\n  - username: b\n    email: b@example.com\n    enabled: false\n  - username: c\n    email: c@example.com\n    groups: []\n",
        )
        .unwrap();
        assert_eq!(manifest.groups["staff"], DeclaredGroup::default());
        assert_eq!(manifest.groups["admins"].precedence, Some(1));
        let [a, b, c] = &manifest.users[..] else { panic!() };
        assert_eq!((a.enabled, a.groups.clone()), (true, vec!["admins".to_owned(), "staff".to_owned()]));
        assert_eq!((b.enabled, b.groups.clone()), (false, vec!["staff".to_owned()]));
        assert_eq!((c.enabled, c.groups.clone()), (true, vec![]));
        assert_eq!(manifest.referenced_groups().into_iter().collect::<Vec<_>>(), ["admins", "staff"]);
        // Without any of it, users are enabled and in no group.
        let plain = users("  - username: d\n    email: d@example.com\n").unwrap();
        assert_eq!((plain.users[0].enabled, plain.users[0].groups.len()), (true, 0));
    }

    #[test]
    fn group_problems() {
        let many: Vec<String> = (0..101).map(|i| format!("g{i}")).collect();
        let problems = check(&format!(
            "version: 1\npool:\n  id: us-east-1_X1\ngroups:\n  'bad name': {{}}\n  ok:\n    precedence: -1\n    role_arn: not-an-arn\n    colour: red\nusers:\n  - username: a\n    email: a@example.com\n    groups: [x, x, '']\n  - username: b\n    email: b@example.com\n    groups: [{}]\n",
            many.join(", ")
        ))
        .unwrap_err();
        // A key error in one group no longer hides the other problems (#15).
        assert_eq!(
            problems,
            [
                "groups.bad name: group name `bad name` has a space or a character Cognito does not allow",
                "groups.ok.precedence: precedence `-1` of group `ok` is out of range",
                "groups.ok.role_arn: `not-an-arn` is not an IAM role ARN",
                "groups.ok.colour: unknown key `colour`",
                "users[0].groups (`a`): a group name is empty",
                "users[0].groups (`a`): group `x` is listed twice",
                "users[1].groups (`b`): 101 groups are listed; a Cognito user belongs to at most 100",
            ],
            "{problems:#?}"
        );
        let problems = check(
            "version: 1\npool:\n  id: us-east-1_X1\ngroups:\n  'bad name': {}\n  ok:\n    precedence: -1\n    role_arn: not-an-arn\nusers:\n  - username: a\n    email: a@example.com\n    groups: [x, x, '']\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "groups.bad name: group name `bad name` has a space or a character Cognito does not allow",
                "groups.ok.precedence: precedence `-1` of group `ok` is out of range",
                "groups.ok.role_arn: `not-an-arn` is not an IAM role ARN",
                "users[0].groups (`a`): a group name is empty",
                "users[0].groups (`a`): group `x` is listed twice",
            ],
            "{problems:#?}"
        );
        let problems =
            users(&format!("  - username: b\n    email: b@example.com\n    groups: [{}]\n", many.join(", ")))
                .unwrap_err();
        assert_eq!(problems, ["users[0].groups (`b`): 101 groups are listed; a Cognito user belongs to at most 100"]);
    }
}
