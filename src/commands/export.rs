//! `export`: write a v1 manifest from an existing pool, so that a team can adopt a pool it
//! did not create with cognito-sync.
//!
//! The users are read a `ListUsers` page at a time, one partition of the pool after another
//! (the walk `plan` uses, [`crate::pool::aws::Walk`]). Each page's users are converted, checked
//! with the manifest validator itself (so the file always passes `validate`), and written
//! as YAML fragments to a private temporary file; only the usernames and fragment offsets
//! stay in memory. A partition whose pagination token expired is read again from its start:
//! what it gave is cut off the file's tail first. At the end the fragments are copied out in
//! username order. The pool is only read: nothing is ever changed.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use miette::{Context, IntoDiagnostic};

use crate::cli::ExportArgs;
use crate::error::ExitStatus;
use crate::manifest::{
    CUSTOM_PREFIX, GroupSpec, MANIFEST_VERSION, MFA_COLUMN, SourceText, USERNAME_COLUMN, UserSpec, standard_attribute,
    standard_attribute_by_column,
};
use crate::output::Printer;
use crate::output::progress::Progress;
use crate::pool::RemoteUser;
use crate::pool::aws::{CognitoPool, WalkEvent};
use crate::settings::Settings;

/// The first line of every exported manifest: editors that speak the YAML language server
/// protocol validate and complete against the schema. It points to the schema as published
/// with this version of the tool (the repository's tag), a location that does not depend on
/// where the manifest is written, and that does not change.
pub const MODELINE: &str = concat!(
    "# yaml-language-server: $schema=",
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/v",
    env!("CARGO_PKG_VERSION"),
    "/schemas/manifest.v1.json"
);

/// At most this many warnings are printed one by one; the rest are counted.
const MAX_WARNINGS: usize = 20;

pub fn run(args: &ExportArgs, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    let (pool_id, region) = super::pool_only_target(&args.manifest(), settings)?;
    // Refuse before any request: an existing file is somebody's work.
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        miette::bail!(
            help = "pass `--force` to replace it, or `-o` another path (then compare the two, e.g. with `diff`)",
            "failed to export pool `{pool_id}`: `{}` already exists",
            path.display()
        );
    }
    super::block_on(export(args, &pool_id, &region, settings, printer))
}

async fn export(
    args: &ExportArgs,
    pool_id: &str,
    region: &str,
    settings: &Settings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let mut temp = args.output.as_deref().map(prepare_file).transpose()?;
    let reader = CognitoPool::connect(&settings.aws, pool_id, region, super::pacer(settings)).await?;
    let pool = reader.describe_pool().await?;
    // Groups and memberships first: each user's fragment is written as its page arrives.
    // One `ListUsersInGroup` walk per group: a pool has far fewer groups than users.
    let groups = reader.list_groups().await?;
    let mut memberships: HashMap<String, Vec<String>> = HashMap::new();
    for name in groups.keys() {
        for member in reader.group_members(name).await? {
            memberships.entry(member.username).or_default().push(name.clone());
        }
    }
    let header = format!("{}{}", manifest_header(&pool.id), groups_section(&groups));
    // The head alone must be valid (e.g. the pool id), or no user check below can pass.
    check_users(&header, &[]).map_err(|problems| {
        miette::miette!(
            help = "check `--pool-id`: a pool id is the region, `_`, then letters and digits",
            "failed to export pool `{}`: {}",
            pool.id,
            problems.first().map_or_else(String::new, |p| p.message.clone())
        )
    })?;
    if !pool.username_attributes.is_empty() {
        printer.status(format!(
            "note: pool `{}` signs in by {}: its usernames are UUIDs that Cognito generated, and `plan` matches users by {} instead",
            pool.id,
            pool.username_attributes.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "),
            pool.username_attributes.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "),
        ));
    }
    if pool.mfa == crate::pool::PoolMfa::Optional {
        // ListUsers does not return a user's MFA settings; reading them would take one
        // AdminGetUser per user. The import never changes an existing user, so nothing is lost
        // in the pool: only the manifest does not say it.
        printer.warn(format_args!(
            "pool `{}` has optional MFA, and export does not read each user's MFA settings: no user gets `mfa_enabled`; the users keep theirs in the pool (cognito-sync never changes existing users)",
            pool.id
        ));
    }
    let importable: BTreeSet<String> =
        pool.csv_header.iter().filter(|c| *c != USERNAME_COLUMN && *c != MFA_COLUMN).cloned().collect();

    let mut walk = reader.export_walk(&pool);
    let mut progress =
        Progress::counting(settings, Some((walk.expected_pages(), "pages")), &format!("exporting pool `{}`", pool.id));
    let mut spill = Spill::new().into_diagnostic().wrap_err("failed to create a private temporary file")?;
    let mut warnings = Warnings::default();
    let mut read = 0u64;
    // Where the partition being read started: its users are kept once it is done, and
    // dropped if its pagination token expires and it is read again. The walk reads one
    // partition at a time, so the partition is always the spill's tail.
    let mut start = Mark { spill: spill.mark(), warnings: warnings.mark(), read };
    while let Some(event) = walk.next().await? {
        match event {
            WalkEvent::Page { users, .. } => {
                read += users.len() as u64;
                let converted: Vec<(UserSpec, Vec<String>)> =
                    users.iter().map(|u| to_spec(u, &importable, &memberships)).collect();
                for (username, fragment) in checked_fragments(&header, converted, &mut warnings) {
                    spill
                        .push(username, &fragment)
                        .into_diagnostic()
                        .wrap_err("failed to write a private temporary file")?;
                }
            }
            WalkEvent::Restart { .. } => {
                spill.truncate(start.spill).into_diagnostic().wrap_err("failed to write a private temporary file")?;
                warnings.truncate(start.warnings);
                read = start.read;
            }
            WalkEvent::Done { .. } => start = Mark { spill: spill.mark(), warnings: warnings.mark(), read },
        }
        progress.update(walk.pages(), &reading(&pool.id, read, walk.restarts()));
    }
    progress.finish();

    let skipped_case = spill.sort_and_dedup(&mut warnings);
    let exported = spill.len();
    let summary = format!("{exported} of {} of pool `{}`", crate::output::plural(read, "user", "users"), pool.id);
    match &args.output {
        Some(path) => {
            let temp = temp.take().ok_or_else(|| miette::miette!("the output file was not prepared"))?;
            write_file(temp, path, args.force, &header, &mut spill)?;
            printer.status(format!("exported {summary} to `{}` (mode 0600: it holds personal data)", path.display()));
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written = spill.write_manifest(&header, &mut out).and_then(|()| out.flush());
            match written {
                // `export | head`: the reader went away; like other Unix filters, not an error.
                Err(error) if crate::output::is_broken_pipe(&error) => return Ok(ExitStatus::Success),
                other => other.into_diagnostic().wrap_err("failed to write the manifest to stdout")?,
            }
            printer.status(format!("exported {summary}"));
        }
    }
    warnings.finish(printer);
    if warnings.users_skipped + skipped_case > 0 {
        let left_out = (warnings.users_skipped + skipped_case) as u64;
        printer.status(format!(
            "{} left out (see the warnings); {} in the pool, unmanaged",
            crate::output::plural(left_out, "user was", "users were"),
            if left_out == 1 { "it stays" } else { "they stay" }
        ));
    }
    Ok(ExitStatus::Success)
}

/// Where the partition being read started, to drop what it gave when it is read again.
#[derive(Debug, Clone, Copy)]
struct Mark {
    spill: SpillMark,
    warnings: WarningsMark,
    read: u64,
}

/// The progress message: users read (those of a partition read again counted once), and
/// how many partitions were read again because their pagination token expired.
fn reading(pool_id: &str, read: u64, restarts: u64) -> String {
    let mut message = format!("exporting pool `{pool_id}`: {} read", crate::output::plural(read, "user", "users"));
    if restarts > 0 {
        message.push_str(&format!(
            " ({} again: {} expired)",
            crate::output::plural(restarts, "partition read", "partitions read"),
            if restarts == 1 { "its pagination token" } else { "their pagination tokens" }
        ));
    }
    message
}

/// `version`, the modeline and `pool`; `users:` follows.
fn manifest_header(pool_id: &str) -> String {
    let pool = serde_yaml::to_string(&serde_yaml::Value::String(pool_id.to_owned())).unwrap_or_default();
    format!(
        "{MODELINE}\n# Written by `cognito-sync export` from pool `{pool_id}`. `plan` on it shows nothing to do.\nversion: {MANIFEST_VERSION}\npool:\n  id: {}\n",
        pool.trim_end()
    )
}

/// The pool's groups as the manifest's `groups:` map (empty when the pool has none).
fn groups_section(groups: &std::collections::BTreeMap<String, crate::pool::RemoteGroup>) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let specs: std::collections::BTreeMap<&str, GroupSpec> = groups
        .iter()
        .map(|(name, group)| {
            (
                name.as_str(),
                GroupSpec {
                    description: group.description.clone(),
                    precedence: group.precedence,
                    role_arn: group.role_arn.clone(),
                },
            )
        })
        .collect();
    let yaml = serde_yaml::to_string(&specs).unwrap_or_default();
    let mut out = String::from("groups:\n");
    for line in yaml.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A pool user as a manifest entry: the importable standard attributes (typed), the custom
/// ones, its groups and, when disabled, `enabled: false`. Returns notes for the values that
/// cannot be carried.
fn to_spec(
    user: &RemoteUser,
    importable: &BTreeSet<String>,
    memberships: &HashMap<String, Vec<String>>,
) -> (UserSpec, Vec<String>) {
    let mut spec = UserSpec {
        username: user.username.clone(),
        enabled: (!user.enabled).then_some(false),
        groups: memberships.get(&user.username).cloned(),
        ..UserSpec::default()
    };
    let mut notes = Vec::new();
    for (name, value) in &user.attributes {
        if !importable.contains(name) {
            continue; // `sub`, `identities`, `dev:custom:...`: not in the import CSV
        }
        if let Some(bare) = name.strip_prefix(CUSTOM_PREFIX) {
            spec.custom.insert(bare.to_owned(), value.to_owned());
            continue;
        }
        let Some(attribute) = standard_attribute_by_column(name) else { continue };
        let value = if attribute.field == "birthdate" { iso_date(value) } else { value.to_owned() };
        if !spec.set_from_cognito(attribute.field, &value) {
            notes.push(format!(
                "left out `{}`: Cognito's value is not a valid {}",
                attribute.field,
                kind_name(attribute.field)
            ));
        }
    }
    (spec, notes)
}

fn kind_name(field: &str) -> &'static str {
    match field {
        "updated_at" => "epoch time",
        "email_verified" | "phone_number_verified" => "boolean",
        _ => "value",
    }
}

/// `02/01/1985` (how a CSV import stores it) → `1985-02-01`; anything else unchanged.
fn iso_date(value: &str) -> String {
    match value.split('/').collect::<Vec<_>>().as_slice() {
        [m, d, y] if m.len() == 2 && d.len() == 2 && y.len() == 4 => format!("{y}-{m}-{d}"),
        _ => value.to_owned(),
    }
}

/// One user as a `users:` item: `  - username: ...` and its fields, indented.
fn fragment(spec: &UserSpec) -> String {
    let yaml = serde_yaml::to_string(spec).unwrap_or_default();
    let mut out = String::with_capacity(yaml.len() + 64);
    for (i, line) in yaml.lines().enumerate() {
        out.push_str(if i == 0 { "  - " } else { "    " });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Validates `fragments` under `header` as the `validate` command would; the problems found.
fn check_users(header: &str, fragments: &[String]) -> Result<(), Vec<crate::manifest::Problem>> {
    let mut text = String::with_capacity(header.len() + fragments.iter().map(String::len).sum::<usize>() + 16);
    text.push_str(header);
    text.push_str(if fragments.is_empty() { "users: []\n" } else { "users:\n" });
    for f in fragments {
        text.push_str(f);
    }
    let source = SourceText { path: "export".into(), text: Arc::from(text) };
    let raw = crate::manifest::parse(&source).map_err(|e| e.problems().cloned().collect::<Vec<_>>())?;
    crate::manifest::validate(&source, raw).map(|_| ()).map_err(|e| e.problems().cloned().collect())
}

/// The page's users as fragments that pass validation: an attribute the validator rejects is
/// left out, a user it rejects as a whole (no email and no phone, a bad username) is
/// skipped; each with a warning.
fn checked_fragments(
    header: &str,
    users: Vec<(UserSpec, Vec<String>)>,
    warnings: &mut Warnings,
) -> Vec<(String, String)> {
    let mut users: Vec<Option<UserSpec>> = users
        .into_iter()
        .map(|(spec, notes)| {
            for note in notes {
                warnings.push(format!("user `{}`: {note}", spec.username));
            }
            Some(spec)
        })
        .collect();
    // Each round removes at least one attribute or user per problem; three rounds cover an
    // attribute that hides a rule across fields (e.g. a bad email, then "no email or phone").
    for round in 0..4 {
        let live: Vec<usize> = (0..users.len()).filter(|i| users[*i].is_some()).collect();
        let fragments: Vec<String> = live.iter().filter_map(|i| users[*i].as_ref().map(fragment)).collect();
        let problems = match check_users(header, &fragments) {
            Ok(()) => {
                return live
                    .iter()
                    .filter_map(|i| users[*i].take())
                    .map(|s| (s.username.clone(), fragment(&s)))
                    .collect();
            }
            Err(problems) => problems,
        };
        // In the users' order: the warnings come out the same every run.
        let mut by_user: std::collections::BTreeMap<usize, Vec<crate::manifest::Problem>> = Default::default();
        for problem in problems {
            match problem.path.user.and_then(|i| live.get(i)) {
                Some(&index) => by_user.entry(index).or_default().push(problem),
                // A problem outside the users cannot come from a user: skip the page's users
                // rather than write an invalid file.
                None => {
                    for slot in &mut users {
                        if let Some(spec) = slot.take() {
                            warnings.skip_user(&spec.username, &problem.message);
                        }
                    }
                    return Vec::new();
                }
            }
        }
        for (index, problems) in by_user {
            let Some(spec) = users[index].as_mut() else { continue };
            for problem in problems {
                let field = problem.path.field.as_str();
                let removed = round < 3 && remove_field(spec, field);
                if removed {
                    warnings.push(format!("user `{}`: left out `{field}`: {}", spec.username, problem.message));
                } else {
                    let username = spec.username.clone();
                    warnings.skip_user(&username, &problem.message);
                    users[index] = None;
                    break;
                }
            }
        }
    }
    Vec::new()
}

/// Removes `field` (`email`, `custom.department`) from the user; false for the username
/// or the user as a whole.
fn remove_field(spec: &mut UserSpec, field: &str) -> bool {
    if let Some(bare) = field.strip_prefix("custom.") {
        return spec.custom.remove(bare).is_some();
    }
    if field.is_empty() || field == "username" || standard_attribute(field).is_none() {
        return false;
    }
    // Rebuild without the field: `UserSpec` has no generic setter for "unset".
    let mut value = match serde_yaml::to_value(&*spec) {
        Ok(value) => value,
        Err(_) => return false,
    };
    let removed = value.as_mapping_mut().and_then(|m| m.remove(field)).is_some();
    match serde_yaml::from_value(value) {
        Ok(rebuilt) if removed => {
            *spec = rebuilt;
            true
        }
        _ => false,
    }
}

/// Warnings on stderr: the first few in full, then a count.
#[derive(Default)]
struct Warnings {
    pending: Vec<String>,
    total: usize,
    users_skipped: usize,
}

impl Warnings {
    fn push(&mut self, text: String) {
        self.total += 1;
        if self.pending.len() < MAX_WARNINGS {
            self.pending.push(text);
        }
    }

    fn mark(&self) -> WarningsMark {
        WarningsMark { pending: self.pending.len(), total: self.total, users_skipped: self.users_skipped }
    }

    /// Forgets the warnings given since `mark`.
    fn truncate(&mut self, mark: WarningsMark) {
        self.pending.truncate(mark.pending);
        self.total = mark.total;
        self.users_skipped = mark.users_skipped;
    }

    fn skip_user(&mut self, username: &str, why: &str) {
        self.users_skipped += 1;
        self.push(format!("skipped user `{username}`: {why}"));
    }

    fn finish(&self, printer: &Printer) {
        for warning in &self.pending {
            printer.warn(warning);
        }
        if self.total > self.pending.len() {
            let more = (self.total - self.pending.len()) as u64;
            printer
                .warn(format!("... and {} like these", crate::output::plural(more, "more warning", "more warnings")));
        }
    }
}

/// How many warnings there were at some point ([`Warnings::mark`]).
#[derive(Debug, Clone, Copy)]
struct WarningsMark {
    pending: usize,
    total: usize,
    users_skipped: usize,
}

/// How far a [`Spill`] was written at some point ([`Spill::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SpillMark {
    offset: u64,
    users: usize,
}

/// The users' fragments in a private temporary file, and where each one is.
struct Spill {
    file: BufWriter<File>,
    offset: u64,
    index: Vec<(String, u64, usize)>,
}

impl Spill {
    fn new() -> std::io::Result<Self> {
        // An unnamed file, mode 0600, gone when closed: it holds personal data.
        Ok(Spill { file: BufWriter::new(tempfile::tempfile()?), offset: 0, index: Vec::new() })
    }

    fn push(&mut self, username: String, fragment: &str) -> std::io::Result<()> {
        self.file.write_all(fragment.as_bytes())?;
        self.index.push((username, self.offset, fragment.len()));
        self.offset += fragment.len() as u64;
        Ok(())
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn mark(&self) -> SpillMark {
        SpillMark { offset: self.offset, users: self.index.len() }
    }

    /// Forgets the users pushed since `mark`, and their fragments: the file is cut back too,
    /// so a partition read again does not grow it.
    fn truncate(&mut self, mark: SpillMark) -> std::io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.set_len(mark.offset)?;
        file.seek(SeekFrom::Start(mark.offset))?;
        self.index.truncate(mark.users);
        self.offset = mark.offset;
        Ok(())
    }

    /// Sorts by username and drops users whose username differs from an earlier one only in
    /// case (a case-sensitive pool can hold both; a manifest cannot). Returns how many.
    fn sort_and_dedup(&mut self, warnings: &mut Warnings) -> usize {
        self.index.sort_by(|a, b| a.0.cmp(&b.0));
        let mut seen: HashMap<String, String> = HashMap::with_capacity(self.index.len());
        let mut skipped = 0;
        self.index.retain(|(username, _, _)| match seen.get(&username.to_lowercase()) {
            Some(first) => {
                warnings.push(format!(
                    "skipped user `{username}`: its username differs from `{first}` only in case, which a manifest cannot hold"
                ));
                skipped += 1;
                false
            }
            None => {
                seen.insert(username.to_lowercase(), username.clone());
                true
            }
        });
        skipped
    }

    /// Writes the header, then every fragment in order.
    fn write_manifest(&mut self, header: &str, out: &mut dyn Write) -> std::io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        out.write_all(header.as_bytes())?;
        if self.index.is_empty() {
            return out.write_all(b"users: []\n");
        }
        out.write_all(b"users:\n")?;
        let mut buffer = Vec::new();
        for (_, offset, len) in &self.index {
            buffer.resize(*len, 0);
            file.seek(SeekFrom::Start(*offset))?;
            file.read_exact(&mut buffer)?;
            out.write_all(&buffer)?;
        }
        Ok(())
    }
}

/// A private temporary file next to `path`, made before the pool is read so that an
/// unwritable directory fails at once; [`write_file`] fills it and renames it into place.
fn prepare_file(path: &Path) -> miette::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".cognito-sync-export-").suffix(".yaml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    builder.tempfile_in(dir).into_diagnostic().wrap_err_with(|| {
        format!("failed to write the manifest to `{}`: cannot create a file in `{}`", path.display(), dir.display())
    })
}

/// Writes the manifest into `temp`, then renames it to `path`: a reader never sees half a
/// file, and an interrupted export leaves none.
fn write_file(
    temp: tempfile::NamedTempFile,
    path: &Path,
    force: bool,
    header: &str,
    spill: &mut Spill,
) -> miette::Result<()> {
    let failed = || format!("failed to write the manifest to `{}`", path.display());
    {
        let mut out = BufWriter::new(temp.as_file());
        spill.write_manifest(header, &mut out).into_diagnostic().wrap_err_with(failed)?;
        out.flush().into_diagnostic().wrap_err_with(failed)?;
    }
    temp.as_file().sync_all().into_diagnostic().wrap_err_with(failed)?;
    let persisted = if force { temp.persist(path) } else { temp.persist_noclobber(path) };
    if let Err(error) = persisted {
        if !force && path.exists() {
            miette::bail!(help = "pass `--force` to replace it", "`{}` appeared while exporting", path.display());
        }
        return Err(error.error).into_diagnostic().wrap_err_with(failed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, attributes: &[(&str, &str)]) -> RemoteUser {
        RemoteUser {
            username: name.to_owned(),
            attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            status: "CONFIRMED".to_owned(),
            enabled: true,
            groups: Default::default(),
        }
    }

    fn importable() -> BTreeSet<String> {
        ["email", "email_verified", "given_name", "birthdate", "updated_at", "phone_number", "custom:department"]
            .map(String::from)
            .into()
    }

    fn export(users: &[RemoteUser]) -> (String, Vec<String>) {
        let header = manifest_header("eu-west-1_Abc");
        let mut warnings = Warnings::default();
        let converted = users.iter().map(|u| to_spec(u, &importable(), &HashMap::new())).collect();
        let fragments = checked_fragments(&header, converted, &mut warnings);
        let mut spill = Spill::new().unwrap();
        for (username, fragment) in fragments {
            spill.push(username, &fragment).unwrap();
        }
        spill.sort_and_dedup(&mut warnings);
        let mut out = Vec::new();
        spill.write_manifest(&header, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), warnings.pending)
    }

    #[test]
    fn users_are_typed_sorted_and_valid() {
        let (text, warnings) = export(&[
            user(
                "zoë",
                &[
                    ("sub", "f00"),
                    ("email", "zoe@example.com"),
                    ("email_verified", "TRUE"),
                    ("given_name", "Zoë"),
                    ("birthdate", "02/01/1985"),
                    ("updated_at", "1471453471"),
                    ("custom:department", "eng"),
                ],
            ),
            user("alice", &[("email", "alice@example.com"), ("phone_number", "+15555550100")]),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        insta::assert_snapshot!(text, @r"
        # yaml-language-server: $schema=https://github.com/YOUR-ORG/cognito-sync/raw/v0.1.0/schemas/manifest.v1.json
        # Written by `cognito-sync export` from pool `eu-west-1_Abc`. `plan` on it shows nothing to do.
        version: 1
        pool:
          id: eu-west-1_Abc
        users:
          - username: alice
            email: alice@example.com
            phone_number: '+15555550100'
          - username: zoë
            given_name: Zoë
            email: zoe@example.com
            email_verified: true
            birthdate: 1985-02-01
            updated_at: 1471453471
            custom:
              department: eng
        ");
        let source = SourceText { path: "x".into(), text: Arc::from(text) };
        crate::manifest::validate(&source, crate::manifest::parse(&source).unwrap()).unwrap();
    }

    #[test]
    fn values_a_manifest_cannot_hold_are_left_out_with_a_warning() {
        let (text, warnings) = export(&[
            user("bob", &[("email", "bob@example.com"), ("given_name", "Bob\nSmith"), ("custom:department", " x")]),
            user("nobody", &[("given_name", "No Contact")]),
            user("carol", &[("email", "not an email"), ("phone_number", "+15555550101")]),
            user("dave", &[("email", "dave@example.com"), ("updated_at", "yesterday")]),
            user("Bob", &[("email", "bob2@example.com")]),
        ]);
        assert!(!text.contains("Bob\n") && !text.contains("No Contact") && !text.contains("not an email"), "{text}");
        assert!(text.contains("- username: carol\n    phone_number: '+15555550101'\n"), "{text}");
        let joined = warnings.join("\n");
        assert!(joined.contains("user `bob`: left out `given_name`: `given_name` contains a line break"), "{joined}");
        assert!(joined.contains("user `bob`: left out `custom.department`"), "{joined}");
        assert!(joined.contains("skipped user `nobody`: the user has neither `email` nor `phone_number`"), "{joined}");
        assert!(joined.contains("user `carol`: left out `email`"), "{joined}");
        assert!(joined.contains("user `dave`: left out `updated_at`"), "{joined}");
        // Within a page the validator's duplicate check catches it; across pages, the sort.
        assert!(
            joined.contains("skipped user `Bob`: username `Bob` differs from users[0] `bob` only in case"),
            "{joined}"
        );
        let source = SourceText { path: "x".into(), text: Arc::from(text) };
        crate::manifest::validate(&source, crate::manifest::parse(&source).unwrap()).unwrap();
    }

    #[test]
    fn usernames_that_differ_only_in_case_across_pages_keep_the_first() {
        let mut spill = Spill::new().unwrap();
        spill.push("bob".into(), "  - username: bob\n").unwrap();
        spill.push("Bob".into(), "  - username: Bob\n").unwrap();
        let mut warnings = Warnings::default();
        assert_eq!(spill.sort_and_dedup(&mut warnings), 1);
        assert_eq!(
            warnings.pending,
            ["skipped user `bob`: its username differs from `Bob` only in case, which a manifest cannot hold"]
        );
    }

    #[test]
    fn a_partition_read_again_drops_what_it_gave_before() {
        let mut spill = Spill::new().unwrap();
        let mut warnings = Warnings::default();
        spill.push("carol".into(), "  - username: carol\n").unwrap();
        warnings.push("user `carol`: a note".into());
        let (spill_mark, warnings_mark) = (spill.mark(), warnings.mark());
        spill.push("alice".into(), "  - username: alice\n    email: alice@example.com\n").unwrap();
        warnings.skip_user("nobody", "no contact");
        spill.truncate(spill_mark).unwrap();
        warnings.truncate(warnings_mark);
        assert_eq!(spill.mark(), spill_mark);
        assert_eq!((warnings.pending.len(), warnings.total, warnings.users_skipped), (1, 1, 0));
        spill.push("alice".into(), "  - username: alice\n").unwrap();
        spill.push("bob".into(), "  - username: bob\n").unwrap();
        spill.sort_and_dedup(&mut warnings);
        let mut out = Vec::new();
        spill.write_manifest("", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "users:\n  - username: alice\n  - username: bob\n  - username: carol\n"
        );
        let written = ["carol", "alice", "bob"].map(|u| format!("  - username: {u}\n").len() as u64);
        assert_eq!(spill.file.get_ref().metadata().unwrap().len(), written.iter().sum::<u64>(), "cut back");
    }

    #[test]
    fn the_progress_line_counts_the_partitions_read_again() {
        assert_eq!(reading("p", 1, 0), "exporting pool `p`: 1 user read");
        assert_eq!(
            reading("p", 120, 1),
            "exporting pool `p`: 120 users read (1 partition read again: its pagination token expired)"
        );
        assert_eq!(
            reading("p", 120, 2),
            "exporting pool `p`: 120 users read (2 partitions read again: their pagination tokens expired)"
        );
    }

    #[test]
    fn an_empty_pool_is_an_empty_list() {
        let (text, _) = export(&[]);
        assert!(text.ends_with("users: []\n"), "{text}");
    }
}
