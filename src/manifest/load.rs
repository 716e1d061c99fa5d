//! Reads a manifest file into its raw form: YAML syntax and the top-level shape checked,
//! the users still raw so that [`super::validate()`] can report every bad user.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use miette::SourceSpan;
use regex::Regex;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::problem::{ManifestError, ManifestPath, Problem, SourceText};
use super::source_map::{Segment, SourceMap};
use super::{MANIFEST_VERSION, Manifest, UserSpec};

/// A manifest as read from disk: the top level parsed, the users still raw, so that
/// [`super::validate()`] can report every bad user and convert them a slice at a time.
#[derive(Debug)]
pub struct RawManifest {
    /// Everything but the users (`head.users` is empty).
    pub head: Manifest<UserSpec>,
    pub users: RawUsers,
    /// Problems found while reading the top level that did not stop it (a type error in
    /// `defaults`, say); [`super::validate()`] reports them with the others.
    pub problems: Vec<Problem>,
}

/// The users of a manifest, not yet deserialized.
#[derive(Debug)]
pub enum RawUsers {
    /// Byte ranges of each `- ` item of a block-style `users:` sequence. Parsing a slice at
    /// a time keeps memory low: serde_yaml holds every event of what it parses.
    Items {
        items: Vec<Range<usize>>,
        /// Parsed before each slice, ending with `users:`, when users alias anchors
        /// defined above them: the text up to `users:`. Empty otherwise.
        prefix: String,
    },
    /// Every user as a YAML value, for manifests the scan cannot lay out (flow style,
    /// anchors, tags).
    Values(Vec<serde_yaml::Value>),
}

impl RawUsers {
    pub fn len(&self) -> usize {
        match self {
            RawUsers::Items { items, .. } => items.len(),
            RawUsers::Values(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a manifest came from, kept for every later diagnostic that points into it.
pub type ManifestSource = SourceText;

/// Reads and parses the manifest at `path`. Syntax, top-level type errors and the version
/// are checked here; user entries are checked by [`super::validate()`].
pub fn load(path: &Path) -> Result<(ManifestSource, RawManifest), ManifestError> {
    let bytes = read_bounded(path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ManifestError::read(path.to_owned(), std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
    })?;
    let source = SourceText { path: path.to_owned(), text: Arc::from(text) };
    let raw = parse(&source)?;
    Ok((source, raw))
}

/// The largest manifest cognito-sync reads: 256 MiB, over a million users of a dozen
/// attributes each (README, "Limits"). Checked before reading a regular file; devices, pipes
/// and FIFOs (`/dev/zero`, `<(generate)`) are read up to the same bound, never further.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024 * 1024;

/// Reads at most [`MAX_MANIFEST_BYTES`] of `path`; a larger file is an error.
fn read_bounded(path: &Path) -> Result<Vec<u8>, ManifestError> {
    use std::io::Read;
    let read_error = |e| ManifestError::read(path.to_owned(), e);
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_file() && metadata.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::too_large(path.to_owned(), Some(metadata.len()), MAX_MANIFEST_BYTES));
    }
    let capacity = if metadata.is_file() { metadata.len() as usize } else { 64 * 1024 };
    let mut bytes = Vec::with_capacity(capacity);
    file.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(ManifestError::too_large(path.to_owned(), None, MAX_MANIFEST_BYTES));
    }
    Ok(bytes)
}

/// How the text uses YAML's references: where anchors are defined (`&a` at the start of a
/// token), and whether it has aliases (`*a`), tags (`!tag`) or several documents.
struct References {
    anchors: Vec<usize>,
    aliases: bool,
    tags_or_documents: bool,
}

fn references(text: &str) -> References {
    let bytes = text.as_bytes();
    let token_start = |i: usize| i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b',');
    let mut found = References { anchors: Vec::new(), aliases: false, tags_or_documents: false };
    for (i, b) in bytes.iter().enumerate() {
        if matches!(b, b'&' | b'*' | b'!')
            && token_start(i)
            && bytes.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace())
        {
            match b {
                b'&' => found.anchors.push(i),
                b'*' => found.aliases = true,
                _ => found.tags_or_documents = true,
            }
        }
    }
    found.tags_or_documents |= text
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.starts_with('#'))
        .skip(1)
        .any(|l| l.starts_with("---") || l.starts_with("..."));
    found
}

/// Parses manifest text; `source.path` is used only to name the file in errors.
pub fn parse(source: &SourceText) -> Result<RawManifest, ManifestError> {
    let text = &*source.text;
    let fail = |problems: Vec<Problem>| ManifestError::invalid(source, problems);
    if is_blank_yaml(text) {
        return Err(fail(vec![Problem::new(ManifestPath::default(), "the manifest is empty").with_help(
            "start from `examples/users.yaml`: a manifest needs at least `version: 1`, `pool.id` and `users`",
        )]));
    }
    // Users are parsed a slice at a time when the scan can lay them out. Anchors defined
    // before the users (in `defaults`, say) and aliases to them in users are fine: each
    // slice is parsed after the text that defines them (`prefix`). An anchor defined among
    // the users, a tag or several documents: the whole document is parsed as one.
    let refs = references(text);
    let layout = if refs.tags_or_documents { None } else { SourceMap::new(text, 0).users_layout() };
    let layout = layout.filter(|l| refs.anchors.iter().all(|&a| a < l.block.start));
    if let Some(layout) = layout {
        let prefix = match refs.anchors.is_empty() && !refs.aliases {
            true => String::new(),
            false => format!("{}users:\n", &text[..layout.block.start]),
        };
        // The top level is parsed without the users entry; offsets after it are shifted
        // back so that every problem still points into the real file.
        let head = [&text[..layout.block.start], &text[layout.block.end..]].concat();
        let shift = |mut problem: Problem| {
            if let Some(span) = problem.span.filter(|s| s.offset() >= layout.block.start) {
                problem.span = Some(SourceSpan::new((span.offset() + layout.block.len()).into(), span.len()));
            }
            problem
        };
        let (head, problems) =
            parse_lenient::<UserSpec>(&head).map_err(|p| fail(p.into_iter().map(shift).collect()))?;
        if head.users.is_empty() {
            let problems = problems.into_iter().map(shift).collect();
            return Ok(RawManifest { head, users: RawUsers::Items { items: layout.items, prefix }, problems });
        }
    }
    let (whole, problems) = parse_lenient::<serde_yaml::Value>(text).map_err(fail)?;
    let Manifest { version, pool, import, rules, defaults, groups, users } = whole;
    Ok(RawManifest {
        head: Manifest { version, pool, import, rules, defaults, groups, users: Vec::new() },
        users: RawUsers::Values(users),
        problems,
    })
}

/// Parses a document; a type error or an unknown key in a top-level section (`defaults`,
/// `import`, ...) is a problem, blanked out, and the document parsed again, so that the
/// users are still checked in the same run (#15). Syntax errors, an unsupported version or
/// a missing required key stop the reading.
fn parse_lenient<U: DeserializeOwned>(text: &str) -> Result<(Manifest<U>, Vec<Problem>), Vec<Problem>> {
    let mut problem = match parse_document::<U>(text) {
        Ok(manifest) => return Ok((manifest, Vec::new())),
        Err(problem) => problem,
    };
    let mut current = text.to_owned();
    let mut problems = Vec::new();
    loop {
        let salvage = salvageable(&problem) && problem.path.user.is_none() && problem.path.field != "version";
        if !problems.is_empty() && !salvage {
            return Err(problems);
        }
        let range = (salvage && problems.len() < MAX_SALVAGED)
            .then(|| SourceMap::new(&current, 0).entry_range(&segments(&problem.path.field)))
            .flatten();
        problems.push(problem);
        let Some(range) = range else { return Err(problems) };
        blank(&mut current, range);
        problem = match parse_document::<U>(&current) {
            Ok(manifest) => return Ok((manifest, problems)),
            Err(problem) => problem,
        };
    }
}

/// Parses a whole document as a manifest; on failure, the most useful problem: a syntax
/// error first, then an unsupported version, then the type error.
fn parse_document<U: DeserializeOwned>(text: &str) -> Result<Manifest<U>, Problem> {
    let error = match serde_yaml::from_str::<Manifest<U>>(text) {
        Ok(manifest) if manifest.version == MANIFEST_VERSION => return Ok(manifest),
        Ok(manifest) => {
            let span = SourceMap::new(text, 0).locate(&[Segment::Key("version")]);
            return Err(unsupported_version(&manifest.version.to_string(), span));
        }
        Err(error) => error,
    };
    // serde reports a type error before a syntax error further on; syntax first.
    if let Err(syntax) = serde_yaml::from_str::<serde::de::IgnoredAny>(text) {
        return Err(yaml_problem(&syntax, None, text, 0));
    }
    // A manifest of another version may fail on keys this build does not know; the
    // version is then the real problem.
    #[derive(Deserialize)]
    struct VersionOnly {
        version: Option<serde_yaml::Value>,
    }
    if let Ok(VersionOnly { version: Some(version) }) = serde_yaml::from_str::<VersionOnly>(text)
        && version.as_u64() != Some(MANIFEST_VERSION)
    {
        let shown = serde_yaml::to_string(&version).unwrap_or_default();
        let span = SourceMap::new(text, 0).locate(&[Segment::Key("version")]);
        return Err(unsupported_version(shown.trim(), span));
    }
    Err(yaml_problem(&error, None, text, 0))
}

/// Parses the users in `items[..]` (consecutive entries of the text) in one go; the
/// fast path for valid users.
pub(super) fn parse_items(text: &str, prefix: &str, items: &[Range<usize>]) -> Option<Vec<UserSpec>> {
    let (first, last) = (items.first()?, items.last()?);
    parse_slice::<UserSpec>(prefix, &text[first.start..last.end]).ok().filter(|users| users.len() == items.len())
}

/// Parses consecutive user entries, after `prefix` when they alias anchors defined in it.
fn parse_slice<U: DeserializeOwned>(prefix: &str, slice: &str) -> Result<Vec<U>, serde_yaml::Error> {
    if prefix.is_empty() {
        return serde_yaml::from_str(slice);
    }
    // The top level around the users is parsed again, and ignored.
    #[derive(Deserialize)]
    #[serde(bound = "U: Deserialize<'de>")]
    struct UsersOnly<U> {
        #[serde(default = "Vec::new")]
        users: Vec<U>,
    }
    let mut text = String::with_capacity(prefix.len() + slice.len());
    text.push_str(prefix);
    text.push_str(slice);
    serde_yaml::from_str::<UsersOnly<U>>(&text).map(|parsed| parsed.users)
}

/// A user entry whose typed parse failed, read as far as it goes: a problem for each key
/// that fails on its own, and the user made of the other keys, so that their values are
/// still checked. One bad boolean must not hide a bad email in the same run (#15).
#[derive(Debug)]
pub(super) struct Salvaged {
    pub username: Option<String>,
    /// The first with its exact place, when serde_yaml gave one; the others are placed by path.
    pub problems: Vec<Problem>,
    /// The user without its failing keys; `None` when even that cannot be read.
    pub partial: Option<UserSpec>,
}

/// How many failing keys of one entry (or of the top level) are read around before the
/// rest is given up: enough for any real mistake, a bound for hostile input.
const MAX_SALVAGED: usize = 16;

/// Blanks `range` of `text` with spaces, line breaks kept: the entry is gone from the YAML
/// and every other byte keeps its offset, so later problems still point into the file.
fn blank(text: &mut String, range: Range<usize>) {
    let blanked: String = text[range.clone()].bytes().map(|b| if b == b'\n' { '\n' } else { ' ' }).collect();
    text.replace_range(range, &blanked);
}

/// Whether reading around `problem` is worth it: a wrong type or an unknown key at a path
/// that the scan can remove. A missing required key would only come from the removal.
fn salvageable(problem: &Problem) -> bool {
    !problem.path.field.is_empty() && !problem.message.starts_with("missing required key")
}

fn segments(field: &str) -> Vec<Segment<'_>> {
    field.split('.').map(Segment::Key).collect()
}

/// Parses one user entry on its own, for located problems when it is invalid: each
/// failing key is reported at its place and blanked out, and the entry parsed again.
pub(super) fn parse_item(
    text: &str,
    prefix: &str,
    item: Range<usize>,
    index: usize,
) -> Result<UserSpec, Box<Salvaged>> {
    let slice = &text[item.clone()];
    // Where the parsed text starts in `text`: errors are located from there. The prefix
    // ends with `users:\n`, never longer than the text before the first item.
    let base = item.start.saturating_sub(prefix.len());
    let mut error = match parse_slice::<UserSpec>(prefix, slice) {
        Ok(mut users) if users.len() == 1 => return Ok(users.remove(0)),
        Ok(_) => {
            let mut problem =
                Problem::new(ManifestPath::user(index, ""), "this user entry could not be read on its own")
                    .with_help("write each user as a `- username: ...` item of the `users` list");
            problem.span = Some(SourceSpan::new(item.start.into(), slice.trim_end().len().max(1)));
            return Err(Box::new(Salvaged { username: None, problems: vec![problem], partial: None }));
        }
        Err(error) => error,
    };
    let username = parse_slice::<serde_yaml::Value>(prefix, slice)
        .ok()
        .and_then(|values| values.first()?.get("username")?.as_str().map(str::to_owned));
    let mut current = slice.to_owned();
    let mut problems = Vec::new();
    let mut partial = None;
    loop {
        let problem = yaml_problem(&error, Some(index), text, base);
        if !problems.is_empty() && !salvageable(&problem) {
            break;
        }
        let range = (salvageable(&problem) && problems.len() < MAX_SALVAGED)
            .then(|| SourceMap::new(&current, 0).entry_range(&segments(&problem.path.field)))
            .flatten();
        problems.push(problem);
        let Some(range) = range else { break };
        blank(&mut current, range);
        error = match parse_slice::<UserSpec>(prefix, &current) {
            Ok(mut users) if users.len() == 1 => {
                partial = Some(users.remove(0));
                break;
            }
            Ok(_) => break,
            Err(error) => error,
        };
    }
    Err(Box::new(finish_salvage(username, problems, partial)))
}

fn finish_salvage(username: Option<String>, mut problems: Vec<Problem>, partial: Option<UserSpec>) -> Salvaged {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.path.to_string()));
    if let Some(name) = &username {
        problems = problems.into_iter().map(|p| p.for_user(name)).collect();
    }
    Salvaged { username, problems, partial }
}

/// Reads what it can of user `index`, read as a YAML value (flow style, anchors), after its
/// typed parse failed with `first`: each key is tried on its own.
fn salvage(index: usize, value: Option<&serde_yaml::Value>, first: Problem) -> Salvaged {
    use serde_yaml::{Mapping, Value};
    let username = value.and_then(|v| v.get("username")?.as_str().map(str::to_owned));
    let mut problems = vec![first];
    let mut partial = None;
    if let Some(mapping) = value.and_then(Value::as_mapping) {
        // Each key on its own, with a placeholder username so that only that key can fail.
        let probe = |key: &Value, entry: &Value| {
            let mut single = Mapping::new();
            if key.as_str() != Some("username") {
                single.insert("username".into(), "placeholder".into());
            }
            single.insert(key.clone(), entry.clone());
            UserSpec::deserialize(Value::Mapping(single)).err()
        };
        let failed = |error: &serde_yaml::Error, field: String| {
            let mut problem = yaml_problem(error, Some(index), "", 0);
            problem.path = ManifestPath::user(index, field);
            problem.span = None;
            problem
        };
        let mut kept = Mapping::new();
        for (key, entry) in mapping {
            let name = key.as_str().unwrap_or_default();
            let Some(error) = probe(key, entry) else {
                kept.insert(key.clone(), entry.clone());
                continue;
            };
            match entry.as_mapping() {
                // A map of values (`custom`): its good entries are kept.
                Some(entries) if name == "custom" => {
                    let mut good = Mapping::new();
                    for (inner, v) in entries {
                        let single = Value::Mapping(Mapping::from_iter([(inner.clone(), v.clone())]));
                        match probe(key, &single) {
                            Some(error) => {
                                problems.push(failed(&error, format!("{name}.{}", inner.as_str().unwrap_or_default())))
                            }
                            None => {
                                good.insert(inner.clone(), v.clone());
                            }
                        }
                    }
                    kept.insert(key.clone(), Value::Mapping(good));
                }
                _ => problems.push(failed(&error, name.to_owned())),
            }
        }
        partial = UserSpec::deserialize(Value::Mapping(kept)).ok();
    }
    finish_salvage(username, problems, partial)
}

fn unsupported_version(found: &str, span: Option<SourceSpan>) -> Problem {
    let mut problem = Problem::new(
        ManifestPath::top("version"),
        format!(
            "manifest version `{found}` is not supported: cognito-sync {} reads version {MANIFEST_VERSION}",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .with_help(format!("set `version: {MANIFEST_VERSION}`, or use the cognito-sync release that wrote this manifest"));
    problem.span = span;
    problem
}

/// Whether the text holds no YAML content at all (only blanks and comments).
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    })
}

/// Deserializes one user entry; a failure becomes a problem located at the failing key,
/// and the other keys are still read (see [`Salvaged`]).
pub(super) fn parse_user(
    index: usize,
    value: &serde_yaml::Value,
    map: &SourceMap<'_>,
) -> Result<UserSpec, Box<Salvaged>> {
    let error = match UserSpec::deserialize(value) {
        Ok(user) => return Ok(user),
        Err(error) => error,
    };
    let mut problem = yaml_problem(&error, Some(index), "", 0);
    if problem.path.field.is_empty() {
        problem.path.field = failing_key(value).unwrap_or_default();
    }
    let mut path = vec![Segment::Key("users"), Segment::Index(index)];
    path.extend(problem.path.field.split('.').filter(|s| !s.is_empty()).map(Segment::Key));
    problem.span = map.locate(&path);
    Err(Box::new(salvage(index, Some(value), problem)))
}

/// Finds which key of a user entry fails to deserialize: errors from a YAML value carry no
/// path, so each key is tried on its own. Runs only for invalid users.
fn failing_key(value: &serde_yaml::Value) -> Option<String> {
    let mapping = value.as_mapping()?;
    let username = serde_yaml::Value::from("placeholder");
    mapping.iter().find_map(|(key, entry)| {
        let mut single = serde_yaml::Mapping::new();
        if key.as_str() != Some("username") {
            single.insert("username".into(), username.clone());
        }
        single.insert(key.clone(), entry.clone());
        UserSpec::deserialize(&serde_yaml::Value::Mapping(single))
            .is_err()
            .then(|| key.as_str().unwrap_or_default().to_owned())
    })
}

/// Turns a serde_yaml error into a problem with a path, a plain message and a hint.
/// `user` is set when the error comes from one user entry deserialized on its own.
/// `base` is where the parsed slice starts in `text`.
fn yaml_problem(error: &serde_yaml::Error, user: Option<usize>, text: &str, base: usize) -> Problem {
    static AT_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r" at line \d+ column \d+").expect("valid regex"));
    // serde_yaml writes " at line L column C" into the message; the snippet shows that.
    let full = error.to_string();
    let message = AT_LINE.replace_all(&full, "");
    let (path, message) = split_path(&message);
    let (message, help) = explain(message);
    let manifest_path = match (user, path) {
        // A user parsed on its own is item `[0]` of a one-item list.
        (Some(i), path) => {
            let field = path.unwrap_or_default();
            let field = field.trim_start_matches('.');
            // Parsed after a prefix, the entry is `users[0]`.
            let field = field.strip_prefix("[0]").or_else(|| field.strip_prefix("users[0]")).unwrap_or(field);
            ManifestPath::user(i, field.trim_start_matches('.'))
        }
        (None, Some(path)) => top_level_path(path),
        (None, None) => ManifestPath::default(),
    };
    let mut manifest_path = manifest_path;
    if let Some(key) = unknown_key(&full) {
        if manifest_path.field.is_empty() {
            if manifest_path.user.is_some() {
                manifest_path.field = key.to_owned();
            }
        } else if !manifest_path.field.ends_with(key) {
            manifest_path.field = format!("{}.{key}", manifest_path.field);
        }
    }
    let mut problem = Problem::new(manifest_path, message);
    problem.help = help;
    if let Some(location) = error.location() {
        let start = (base + location.index()).min(text.len());
        let len = text[start..].find('\n').unwrap_or(text.len() - start).max(1);
        problem.span = Some(SourceSpan::new(start.into(), len.min(text.len() - start)));
    }
    problem
}

/// Keys that would put a password or its hash in the manifest (SPEC §9).
pub(super) fn is_password_key(key: &str) -> bool {
    matches!(key, "password" | "password_hash" | "password_hashes" | "hash" | "passwd")
}

fn unknown_key(message: &str) -> Option<&str> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    rest.split_once('`').map(|(key, _)| key)
}

/// serde_yaml writes `path: message`; the path is `.` at the top or like `users[2].email`.
fn split_path(message: &str) -> (Option<&str>, &str) {
    match message.split_once(": ") {
        Some((path, rest))
            if !path.is_empty()
                && path.chars().all(|c| c.is_alphanumeric() || "_[].:-".contains(c))
                && !path.starts_with("invalid")
                && !path.starts_with("unknown") =>
        {
            (Some(path), rest)
        }
        _ => (None, message),
    }
}

/// `users[3].custom.department` → user 3, field `custom.department`.
fn top_level_path(path: &str) -> ManifestPath {
    if let Some(rest) = path.strip_prefix("users[")
        && let Some((index, field)) = rest.split_once(']')
        && let Ok(index) = index.parse()
    {
        return ManifestPath::user(index, field.trim_start_matches('.'));
    }
    ManifestPath::top(path)
}

/// Rewrites serde's messages into the tool's voice, with what would be right.
fn explain(message: &str) -> (String, Option<String>) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        if is_password_key(field) {
            return (
                format!("`{field}` does not belong in the manifest: passwords and their hashes are secrets"),
                Some(format!(
                    "remove it (and from git history), and pass the hashes in a separate file kept out of git with `--password-hashes FILE` (or `{}`): JSON Lines, one user per line, e.g. {{\"username\": \"alice\", \"algorithm\": \"BCRYPT\", \"hash\": \"$2b$12$...\"}}",
                    crate::env::PASSWORD_HASHES
                )),
            );
        }
        let help = if let Some(name) = field.strip_prefix(super::CUSTOM_PREFIX) {
            format!("custom attributes go in the `custom` map without their prefix: `custom: {{ {name}: ... }}`")
        } else if let Some(close) = closest(field, &known) {
            format!("did you mean `{close}`?")
        } else {
            format!("known keys here: {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
        };
        return (format!("unknown key `{field}`"), Some(help));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let help = match field {
            "version" => "add `version: 1` at the top of the manifest".to_owned(),
            "pool" => "add `pool:` with the pool's `id`, e.g. `pool: { id: us-east-1_AbCdEf123 }`".to_owned(),
            "id" => "add the user pool id, e.g. `id: us-east-1_AbCdEf123`".to_owned(),
            "username" => "every user needs a `username`".to_owned(),
            other => format!("add `{other}`"),
        };
        return (format!("missing required key `{field}`"), Some(help));
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let help = match expected {
                "a boolean" => Some("write `true` or `false`, without quotes".to_owned()),
                "a string" if found.starts_with("integer") || found.starts_with("floating point") => Some(
                    "quote the value, e.g. `'+15555550100'`: YAML reads unquoted digits as a number and drops a leading `+`"
                        .to_owned(),
                ),
                "a string" => Some("quote the value".to_owned()),
                expected if expected.starts_with("struct Manifest") => Some(
                    "a manifest is a YAML mapping with `version`, `pool` and `users`; see `examples/users.yaml`".to_owned(),
                ),
                _ => None,
            };
        let expected = match expected {
            e if e.starts_with("struct Manifest") => "a mapping (`version: 1`, `pool`, `users`, ...)",
            e if e.starts_with("struct UserSpec") => "a mapping with `username` and attributes",
            e if e.starts_with("struct ") => "a mapping",
            "a sequence" => "a list",
            e => e,
        };
        return (format!("expected {expected}, found {found}"), help);
    }
    if message.contains("untagged enum Timestamp") {
        return (
            "`updated_at` is neither an RFC 3339 timestamp nor epoch seconds".to_owned(),
            Some("write e.g. `2024-05-01T12:00:00Z` or `1714564800`".to_owned()),
        );
    }
    if message.contains("duplicate entry") || message.contains("duplicate key") {
        return (message.to_owned(), Some("a key may appear once in each mapping".to_owned()));
    }
    (message.to_owned(), Some("check the YAML syntax near this place (indentation, `:` after keys, quotes)".to_owned()))
}

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub(super) fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        assert_eq!(closest("emial", &["email", "email_verified", "name"]), Some("email"));
        assert_eq!(closest("zzz", &["email", "name"]), None);
        assert_eq!(closest("phone", &["phone_number", "name"]), None);
    }

    #[test]
    fn splits_serde_yaml_paths() {
        assert_eq!(split_path("users[2].email: invalid type"), (Some("users[2].email"), "invalid type"));
        assert_eq!(split_path("invalid type: string \"x\", expected a boolean").0, None);
        assert_eq!(top_level_path("users[12].custom.dept"), ManifestPath::user(12, "custom.dept"));
    }
}
