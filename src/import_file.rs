//! The import file: declared users written as Cognito's user-import CSV, split into files
//! that each fit one import job.
//!
//! Pure, except for the two helpers at the end that write the bytes to a private file.
//! It owns the dialect only: which users to import, and whether their values are valid for
//! the pool, is decided earlier (`plan`, manifest validation).
//!
//! Cognito's dialect is **not RFC 4180** (reference `cognito-import.md` §1, \[CSV\]):
//! - UTF-8 without a byte-order mark;
//! - the header is the pool's `GetCSVHeader` columns, verbatim and in that order;
//! - every column on every row, an empty cell when there is no value;
//! - values are never wrapped in quotes: a `"` is part of the value;
//! - a comma inside a value is written `\,` (the only escape AWS documents; its own sample,
//!   \[AWS-SAMPLE\], does exactly this);
//! - booleans `true`/`false`, `birthdate` as `mm/dd/yyyy`, `updated_at` as epoch seconds;
//! - at most 16,000 characters per row, 500,000 rows and 100 MB per file.
//!
//! Why a hand-written join rather than the `csv` crate: the crate's writer implements RFC
//! 4180, so it wraps any value holding a comma or a quote in quotes and doubles the quotes;
//! Cognito would import those quotes as part of the value. Turning that off leaves nothing
//! the crate would do for us (no quoting, a non-standard escape), while a join is a few
//! lines that state the dialect exactly.
//!
//! Not documented by AWS, and chosen here:
//! - Line ending: `\n` after every line, the last one included. AWS says nothing about LF vs
//!   CRLF; its sample joins rows with the OS line ending, which is `\n` on Linux, where it runs.
//! - A double quote is written as it is. A backslash has no documented escape (a value
//!   ending in `\` would swallow the next separator), and neither have line breaks and other
//!   control characters: manifest validation rejects all of them, so they never reach here.
//! - A custom attribute's column: GetCSVHeader is expected to spell it `custom:name`, as the
//!   API names the attribute, but a bare `name` column (not a standard attribute) is taken
//!   as the custom attribute too (`column_attribute`; the conformance kit's
//!   `custom_column_spelling` probe asks a real pool).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::manifest::{
    AttrKind, CUSTOM_PREFIX, DeclaredUser, MFA_COLUMN, USERNAME_COLUMN, standard_attribute_by_column,
};
use crate::password_hashes::{Algorithm, HashFile};

/// The column of a hash job's password hashes (\[IMPORT, newer copy\]). Whether GetCSVHeader
/// lists it is undocumented: it is appended when the pool's header lacks it, and filled in
/// place when the header has it.
pub const PASSWORD_HASH_COLUMN: &str = "password_hash";

/// The most characters a data row may have \[CSV\].
pub const MAX_ROW_CHARS: usize = 16_000;
/// The most users (data rows, the header not counted) in one file \[CSV\] \[QUOTAS\].
pub const MAX_ROWS: usize = 500_000;
/// The largest file Cognito accepts \[CSV\]: "100 MB". Whether that is 10^8 or 2^20 × 100
/// bytes is not documented, so the smaller reading is used.
pub const MAX_BYTES: usize = 100_000_000;

/// The pool's MFA setting (DescribeUserPool `MfaConfiguration`), which fills the
/// `cognito:mfa_enabled` column of users who declare no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMfa {
    /// `OFF`: MFA is disabled for every user.
    Off,
    /// `ON`: MFA is required.
    On,
    /// `OPTIONAL`: each user chooses; an imported user starts without it.
    Optional,
}

impl PoolMfa {
    /// The value written for a user who declares none. The 2023 docs require a value on every
    /// row (newer docs allow a blank); writing one satisfies both versions.
    pub fn default_enabled(self) -> bool {
        match self {
            PoolMfa::Off | PoolMfa::Optional => false,
            PoolMfa::On => true,
        }
    }
}

/// One file for one import job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    /// The whole file: the header line, then one line per user.
    pub bytes: Vec<u8>,
    /// `usernames[i]` is on data row `i + 1` (the header is not counted), which is how the
    /// job's CloudWatch log lines (`Line Number N`) map back to users.
    pub usernames: Vec<String>,
    /// The password hashing algorithm of the job that uploads this file, when the file
    /// carries a `password_hash` column (SPEC §9); `None` for a plain import.
    pub algorithm: Option<Algorithm>,
}

/// A user whose row is longer than Cognito accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowTooLong {
    /// The user's position in the manifest (`users[index]`).
    pub index: usize,
    pub username: String,
    /// The row's length in characters, escapes included.
    pub chars: usize,
}

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`users[{}]` (`{}`): its import row has {} characters, more than Cognito's limit of {MAX_ROW_CHARS}",
            self.index, self.username, self.chars
        )
    }
}

/// The limits a file must respect; a parameter so that tests can use small ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    rows: usize,
    bytes: usize,
    row_chars: usize,
}

const COGNITO_LIMITS: Limits = Limits { rows: MAX_ROWS, bytes: MAX_BYTES, row_chars: MAX_ROW_CHARS };

/// Writes `users` in Cognito's dialect under `header` (the pool's `GetCSVHeader`, used
/// verbatim), split into as many files as Cognito's per-file limits require. No users, no
/// files.
///
/// A header column that a user has no value for is an empty cell. A user attribute that is
/// not in the header is not written: `plan` reports those before anything is built.
///
/// Every row that is too long is reported, not only the first.
pub fn build_files(
    header: &[String],
    users: &[&DeclaredUser],
    mfa: PoolMfa,
) -> Result<Vec<ImportFile>, Vec<RowTooLong>> {
    build_with_limits(header, users.iter().map(|u| RowSource::from(*u)), mfa, COGNITO_LIMITS)
}

/// [`build_files`] from borrowed rows (a plan's new users), so that no user is copied to
/// build the files: plan memory stays near validate's (#10).
pub fn build_files_from<'a>(
    header: &[String],
    users: impl IntoIterator<Item = RowSource<'a>>,
    mfa: PoolMfa,
) -> Result<Vec<ImportFile>, Vec<RowTooLong>> {
    build_with_limits(header, users, mfa, COGNITO_LIMITS)
}

/// What one data row is made of, borrowed from a [`DeclaredUser`] or a plan's new user.
#[derive(Debug, Clone, Copy)]
pub struct RowSource<'a> {
    pub index: usize,
    pub username: &'a str,
    pub attributes: &'a crate::manifest::Attributes,
    pub mfa_enabled: Option<bool>,
}

impl<'a> From<&'a DeclaredUser> for RowSource<'a> {
    fn from(user: &'a DeclaredUser) -> Self {
        RowSource {
            index: user.index,
            username: &user.username,
            attributes: &user.attributes,
            mfa_enabled: user.mfa_enabled,
        }
    }
}

fn build_with_limits<'a>(
    header: &[String],
    users: impl IntoIterator<Item = RowSource<'a>>,
    mfa: PoolMfa,
    limits: Limits,
) -> Result<Vec<ImportFile>, Vec<RowTooLong>> {
    let mut rows = Vec::new();
    let mut too_long = Vec::new();
    for user in users {
        let row = row(header, &user, mfa);
        let chars = row.chars().count();
        if chars > limits.row_chars {
            too_long.push(RowTooLong { index: user.index, username: user.username.to_owned(), chars });
        } else {
            rows.push((row, user.username));
        }
    }
    if !too_long.is_empty() {
        return Err(too_long);
    }

    Ok(pack(header, rows.into_iter().map(|(row, username)| (row, username.to_owned())), limits))
}

/// Splits rows already in Cognito's dialect (a saved plan's) into files, as
/// [`build_files`] does; `rows` pairs each row with its username.
pub fn files_from_rows(header: &[String], rows: impl IntoIterator<Item = (String, String)>) -> Vec<ImportFile> {
    pack(header, rows, COGNITO_LIMITS)
}

/// Puts rows into files under `header`, a new file whenever the next row would break a limit.
fn pack(header: &[String], rows: impl IntoIterator<Item = (String, String)>, limits: Limits) -> Vec<ImportFile> {
    let mut header_line = header.join(",");
    header_line.push('\n');
    let mut files = Vec::new();
    let mut current: Option<ImportFile> = None;
    for (row, username) in rows {
        let line_len = row.len() + 1;
        // A file always takes at least one row, so a row that alone exceeds a (test-sized)
        // byte limit still gets a file; Cognito's real limits cannot be reached that way
        // (16,000 characters are at most 64 kB).
        if let Some(file) =
            current.take_if(|file| file.usernames.len() >= limits.rows || file.bytes.len() + line_len > limits.bytes)
        {
            files.push(file);
        }
        let file = current.get_or_insert_with(|| ImportFile {
            bytes: header_line.clone().into_bytes(),
            usernames: Vec::new(),
            algorithm: None,
        });
        file.bytes.extend_from_slice(row.as_bytes());
        file.bytes.push(b'\n');
        file.usernames.push(username);
    }
    files.extend(current);
    files
}

/// Whether header `column` carries attribute `attribute`: its own name, or, for a custom
/// attribute, its name without `custom:` when that is not a standard attribute's column.
pub fn column_carries(column: &str, attribute: &str) -> bool {
    column == attribute
        || attribute.strip_prefix(CUSTOM_PREFIX) == Some(column) && standard_attribute_by_column(column).is_none()
}

/// The files of a migration with password hashes (SPEC §9), from the plain files of the
/// same users: one group of files per algorithm, in [`Algorithm`] order, each with the
/// `password_hash` column and its algorithm set; users without a hash ride in the first
/// group with a blank cell. Without any hash for these users, the plain files, unchanged
/// (no column, no algorithm).
///
/// Hash cells are escaped like every value (PHC strings hold commas: `m=..,t=..,p=..`).
/// Returns the usernames whose row would grow past Cognito's row limit.
pub fn with_hashes(header: &[String], files: &[ImportFile], hashes: &HashFile) -> Result<Vec<ImportFile>, Vec<String>> {
    with_hashes_and_limits(header, files, hashes, COGNITO_LIMITS)
}

fn with_hashes_and_limits(
    header: &[String],
    files: &[ImportFile],
    hashes: &HashFile,
    limits: Limits,
) -> Result<Vec<ImportFile>, Vec<String>> {
    let rows = files
        .iter()
        .flat_map(|file| std::str::from_utf8(&file.bytes).unwrap_or_default().lines().skip(1).zip(&file.usernames));
    let Some(first) = files.iter().flat_map(|f| &f.usernames).filter_map(|u| hashes.algorithm_of(u)).min() else {
        return Ok(files.to_vec());
    };
    let mut hash_header = header.to_vec();
    let column = match header.iter().position(|c| c == PASSWORD_HASH_COLUMN) {
        Some(column) => column,
        None => {
            hash_header.push(PASSWORD_HASH_COLUMN.to_owned());
            header.len()
        }
    };
    let mut groups: std::collections::BTreeMap<Algorithm, Vec<(String, String)>> = Default::default();
    let mut too_long = Vec::new();
    for (row, username) in rows {
        let entry = hashes.get(username);
        let mut cells = split_cells(row);
        cells.resize(header.len(), String::new());
        let cell = entry.map(|e| escape(e.hash.expose())).unwrap_or_default();
        if column < cells.len() {
            cells[column] = cell;
        } else {
            cells.push(cell);
        }
        let row = cells.join(",");
        if row.chars().count() > limits.row_chars {
            too_long.push(username.clone());
            continue;
        }
        groups.entry(entry.map_or(first, |e| e.algorithm)).or_default().push((row, username.clone()));
    }
    if !too_long.is_empty() {
        return Err(too_long);
    }
    Ok(groups
        .into_iter()
        .flat_map(|(algorithm, rows)| {
            pack(&hash_header, rows, limits)
                .into_iter()
                .map(move |file| ImportFile { algorithm: Some(algorithm), ..file })
        })
        .collect())
}

/// A row's cells, still escaped: split at every comma that is not written `\,` (validation
/// keeps backslashes out of values, so `\,` is always an escaped comma).
fn split_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut previous = '\0';
    for c in row.chars() {
        if c == ',' && previous != '\\' {
            cells.push(String::new());
        } else {
            cells.last_mut().expect("one cell at least").push(c);
        }
        previous = c;
    }
    cells
}

/// One data row, without its line ending.
fn row(header: &[String], user: &RowSource<'_>, mfa: PoolMfa) -> String {
    let mut cells = Vec::with_capacity(header.len());
    for column in header {
        let cell = match column.as_str() {
            USERNAME_COLUMN => escape(user.username),
            MFA_COLUMN => user.mfa_enabled.unwrap_or_else(|| mfa.default_enabled()).to_string(),
            _ => {
                let custom = format!("{CUSTOM_PREFIX}{column}");
                let value = user
                    .attributes
                    .get(column)
                    .or_else(|| if column_carries(column, &custom) { user.attributes.get(&custom) } else { None });
                value.map(|value| cell(column, value)).unwrap_or_default()
            }
        };
        cells.push(cell);
    }
    cells.join(",")
}

/// One attribute value in the dialect's form.
fn cell(column: &str, value: &str) -> String {
    match standard_attribute_by_column(column).map(|a| a.kind) {
        Some(AttrKind::Bool) if value.eq_ignore_ascii_case("true") => "true".to_owned(),
        Some(AttrKind::Bool) if value.eq_ignore_ascii_case("false") => "false".to_owned(),
        Some(AttrKind::Date) => us_date(value).unwrap_or_else(|| escape(value)),
        // `updated_at` is epoch seconds already; other values are text.
        _ => escape(value),
    }
}

/// `YYYY-MM-DD` → `mm/dd/yyyy` \[CSV\]. Validation guarantees the ISO form; anything else is
/// written as it is rather than guessed at.
fn us_date(iso: &str) -> Option<String> {
    let mut parts = iso.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && digits(year, 4) && digits(month, 2) && digits(day, 2))
        .then(|| format!("{month}/{day}/{year}"))
}

/// Why Cognito's CSV dialect cannot carry the pool attribute `column` as a header cell, if
/// it cannot. Cognito documents the `\,` escape for values only, and every column of
/// `GetCSVHeader` must be in the file, so a pool with such an attribute cannot take an import
/// file: `plan` refuses it, naming the attribute, rather than have the job fail. \[CSV\]
pub fn unwritable_header_cell(column: &str) -> Option<&'static str> {
    if column.contains(',') {
        Some("a comma would split the header cell, and Cognito documents its `\\,` escape for values only")
    } else if column.contains('\\') {
        Some("a backslash is the dialect's escape character, with no documented way to write it as itself")
    } else if column.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')) {
        Some("it holds a line break or a control character")
    } else if column.trim() != column {
        Some("Cognito trims the spaces around every cell")
    } else {
        None
    }
}

/// The dialect's only escape: `,` → `\,`.
fn escape(value: &str) -> String {
    value.replace(',', "\\,")
}

/// Writes `bytes` to `path`, readable by the owner only (mode 0600) from the moment the file
/// exists, replacing any earlier content. The file holds users' personal data.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // `mode` applies only when the file is created: an existing file keeps its mode, so
        // it is narrowed before anything is written to it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        write_all(file, bytes)
    }
    #[cfg(not(unix))]
    {
        write_all(options.open(path)?, bytes)
    }
}

fn write_all(mut file: std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `bytes` to a new temporary file, mode 0600, which is removed when the returned
/// value is dropped (and left behind only if the process is killed).
pub fn private_temp_file(bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("cognito-sync-import-").suffix(".csv");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile already creates files 0600 on Unix; saying so keeps it true if that changes.
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut file = builder.tempfile()?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    Ok(file)
}

#[cfg(test)]
mod tests {

    use super::*;

    fn header(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| (*c).to_owned()).collect()
    }

    fn user(index: usize, username: &str, attributes: &[(&str, &str)]) -> DeclaredUser {
        DeclaredUser {
            index,
            username: username.to_owned(),
            attributes: attributes.iter().copied().collect(),
            mfa_enabled: None,
            ..DeclaredUser::default()
        }
    }

    fn text(file: &ImportFile) -> &str {
        std::str::from_utf8(&file.bytes).unwrap()
    }

    /// Builds one file and returns its text.
    fn one(header: &[String], users: &[DeclaredUser], mfa: PoolMfa) -> String {
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let files = build_files(header, &refs, mfa).unwrap();
        assert_eq!(files.len(), 1);
        text(&files[0]).to_owned()
    }

    #[test]
    fn every_header_column_in_order_with_empty_cells() {
        let header = header(&["name", "given_name", "email", "cognito:mfa_enabled", "cognito:username"]);
        let users = [user(0, "alice", &[("email", "alice@example.com")]), user(1, "bob", &[("name", "Bob")])];
        assert_eq!(
            one(&header, &users, PoolMfa::Off),
            "name,given_name,email,cognito:mfa_enabled,cognito:username\n\
             ,,alice@example.com,false,alice\n\
             Bob,,,false,bob\n"
        );
    }

    #[test]
    fn header_is_verbatim_whatever_its_order() {
        let header = header(&["cognito:username", "custom:department", "email", "cognito:mfa_enabled"]);
        let users = [user(0, "alice", &[("custom:department", "ops"), ("email", "a@example.com")])];
        assert_eq!(
            one(&header, &users, PoolMfa::Off),
            "cognito:username,custom:department,email,cognito:mfa_enabled\nalice,ops,a@example.com,false\n"
        );
    }

    #[test]
    fn commas_are_escaped_and_quotes_left_as_they_are() {
        let header = header(&["name", "address", "cognito:username"]);
        let users = [user(0, "o,brien", &[("name", "O'Brien, \"Pat\""), ("address", "1 Main St, Dublin, IE")])];
        assert_eq!(
            one(&header, &users, PoolMfa::Off),
            "name,address,cognito:username\nO'Brien\\, \"Pat\",1 Main St\\, Dublin\\, IE,o\\,brien\n"
        );
    }

    #[test]
    fn non_ascii_is_utf8_without_bom() {
        let header = header(&["name", "cognito:username"]);
        let users = [user(0, "zoë", &[("name", "Zoë Ångström 李")])];
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let files = build_files(&header, &refs, PoolMfa::Off).unwrap();
        assert!(!files[0].bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
        assert!(files[0].bytes.starts_with(b"name,"));
        assert_eq!(text(&files[0]), "name,cognito:username\nZoë Ångström 李,zoë\n");
    }

    #[test]
    fn booleans_are_lowercase_true_false() {
        let header = header(&["email_verified", "phone_number_verified", "custom:flag", "cognito:username"]);
        let users =
            [user(0, "a", &[("email_verified", "TRUE"), ("phone_number_verified", "false"), ("custom:flag", "TRUE")])];
        // Custom attributes are strings to Cognito: their text is kept.
        assert_eq!(
            one(&header, &users, PoolMfa::Off),
            "email_verified,phone_number_verified,custom:flag,cognito:username\ntrue,false,TRUE,a\n"
        );
    }

    #[test]
    fn birthdate_becomes_mm_dd_yyyy_and_updated_at_stays_epoch() {
        let header = header(&["birthdate", "updated_at", "cognito:username"]);
        let users = [user(0, "a", &[("birthdate", "1985-02-01"), ("updated_at", "1471453471")])];
        assert_eq!(
            one(&header, &users, PoolMfa::Off),
            "birthdate,updated_at,cognito:username\n02/01/1985,1471453471,a\n"
        );
    }

    #[test]
    fn mfa_is_always_filled_from_the_user_then_the_pool() {
        let header = header(&["cognito:mfa_enabled", "cognito:username"]);
        let mut yes = user(0, "yes", &[]);
        yes.mfa_enabled = Some(true);
        let mut no = user(1, "no", &[]);
        no.mfa_enabled = Some(false);
        let unset = user(2, "unset", &[]);
        let users = [yes, no, unset];
        let expect = |pool_default: &str| {
            format!("cognito:mfa_enabled,cognito:username\ntrue,yes\nfalse,no\n{pool_default},unset\n")
        };
        assert_eq!(one(&header, &users, PoolMfa::Off), expect("false"));
        assert_eq!(one(&header, &users, PoolMfa::On), expect("true"));
        assert_eq!(one(&header, &users, PoolMfa::Optional), expect("false"));
    }

    #[test]
    fn a_bare_custom_column_carries_the_custom_attribute() {
        let header = header(&["name", "department", "cognito:username"]);
        let users = [user(0, "a", &[("custom:department", "ops"), ("custom:name", "x")])];
        // `name` is the standard attribute's column: custom:name is not written there.
        assert_eq!(one(&header, &users, PoolMfa::Off), "name,department,cognito:username\n,ops,a\n");
        assert!(column_carries("department", "custom:department"));
        assert!(column_carries("custom:department", "custom:department"));
        assert!(!column_carries("name", "custom:name"));
        assert!(!column_carries("dept", "custom:department"));
    }

    #[test]
    fn attributes_outside_the_header_are_not_written() {
        let header = header(&["email", "cognito:username"]);
        let users = [user(0, "a", &[("email", "a@example.com"), ("custom:unknown", "x")])];
        assert_eq!(one(&header, &users, PoolMfa::Off), "email,cognito:username\na@example.com,a\n");
    }

    #[test]
    fn usernames_map_data_rows_from_one() {
        let header = header(&["cognito:username"]);
        let users = [user(0, "a", &[]), user(1, "b", &[])];
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let files = build_files(&header, &refs, PoolMfa::Off).unwrap();
        assert_eq!(files[0].usernames, ["a", "b"]);
    }

    #[test]
    fn no_users_no_files() {
        assert_eq!(build_files(&header(&["cognito:username"]), &[], PoolMfa::Off).unwrap(), []);
    }

    #[test]
    fn files_split_by_rows() {
        let header = header(&["cognito:username"]);
        let users: Vec<DeclaredUser> = (0..5).map(|i| user(i, &format!("u{i}"), &[])).collect();
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let limits = Limits { rows: 2, bytes: usize::MAX, row_chars: MAX_ROW_CHARS };
        let files = build_with_limits(&header, refs.iter().map(|u| RowSource::from(*u)), PoolMfa::Off, limits).unwrap();
        let texts: Vec<&str> = files.iter().map(text).collect();
        assert_eq!(texts, ["cognito:username\nu0\nu1\n", "cognito:username\nu2\nu3\n", "cognito:username\nu4\n"]);
        assert_eq!(files[2].usernames, ["u4"]);
    }

    #[test]
    fn files_split_by_bytes_header_included() {
        let header = header(&["cognito:username"]);
        let users: Vec<DeclaredUser> = (0..3).map(|i| user(i, &format!("u{i}"), &[])).collect();
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        // The header line is 17 bytes and each row 3: two rows make 23.
        let limits = Limits { rows: usize::MAX, bytes: 23, row_chars: MAX_ROW_CHARS };
        let files = build_with_limits(&header, refs.iter().map(|u| RowSource::from(*u)), PoolMfa::Off, limits).unwrap();
        assert_eq!(files.iter().map(|f| f.bytes.len()).collect::<Vec<_>>(), [23, 20]);
        assert_eq!(files[1].usernames, ["u2"]);
        // A row that alone is too large still gets its own file rather than looping.
        let tiny = Limits { rows: usize::MAX, bytes: 1, row_chars: MAX_ROW_CHARS };
        assert_eq!(
            build_with_limits(&header, refs.iter().map(|u| RowSource::from(*u)), PoolMfa::Off, tiny).unwrap().len(),
            3
        );
    }

    #[test]
    fn rows_too_long_are_all_reported_with_the_user() {
        let header = header(&["name", "cognito:username"]);
        let users = [user(4, "long", &[("name", "a,b,c")]), user(5, "ok", &[]), user(7, "also", &[("name", "ééééé")])];
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let limits = Limits { rows: MAX_ROWS, bytes: MAX_BYTES, row_chars: 10 };
        // Escapes count: `a\,b\,c,long` is 12 characters; characters, not bytes: `ééééé,also` is 10.
        let errors =
            build_with_limits(&header, refs.iter().map(|u| RowSource::from(*u)), PoolMfa::Off, limits).unwrap_err();
        assert_eq!(errors, [RowTooLong { index: 4, username: "long".into(), chars: 12 }]);
        assert_eq!(
            errors[0].to_string(),
            "`users[4]` (`long`): its import row has 12 characters, more than Cognito's limit of 16000"
        );
        let big = user(0, "big", &[("name", &"x".repeat(MAX_ROW_CHARS))]);
        assert_eq!(build_files(&header, &[&big], PoolMfa::Off).unwrap_err()[0].chars, MAX_ROW_CHARS + 4);
    }

    fn hashes(entries: &[(&str, Algorithm, &str)]) -> HashFile {
        HashFile {
            path: "hashes.jsonl".into(),
            digest: "d".into(),
            entries: entries
                .iter()
                .enumerate()
                .map(|(i, (user, algorithm, hash))| {
                    let entry = crate::password_hashes::HashEntry {
                        line: i + 1,
                        algorithm: *algorithm,
                        hash: crate::password_hashes::Secret::new(*hash),
                    };
                    ((*user).to_owned(), entry)
                })
                .collect(),
        }
    }

    #[test]
    fn hash_jobs_one_per_algorithm_users_without_a_hash_in_the_first() {
        let header = header(&["name", "cognito:username"]);
        let users = [
            user(0, "plain", &[("name", "P, Q")]),
            user(1, "argon", &[]),
            user(2, "crypt", &[]),
            user(3, "argon2", &[]),
        ];
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let plain = build_files(&header, &refs, PoolMfa::Off).unwrap();
        let file = hashes(&[
            ("argon", Algorithm::Argon2id, "$argon2id$v=19$m=1024,t=1,p=1$salt$hash"),
            ("crypt", Algorithm::Bcrypt, "$2b$04$abc"),
            ("argon2", Algorithm::Argon2id, "$argon2id$v=19$m=8,t=1,p=1$s$h"),
        ]);
        let files = with_hashes(&header, &plain, &file).unwrap();
        let texts: Vec<(Option<Algorithm>, &str)> = files.iter().map(|f| (f.algorithm, text(f))).collect();
        assert_eq!(
            texts,
            [
                (Some(Algorithm::Bcrypt), "name,cognito:username,password_hash\nP\\, Q,plain,\n,crypt,$2b$04$abc\n"),
                (
                    Some(Algorithm::Argon2id),
                    "name,cognito:username,password_hash\n,argon,$argon2id$v=19$m=1024\\,t=1\\,p=1$salt$hash\n,argon2,$argon2id$v=19$m=8\\,t=1\\,p=1$s$h\n"
                ),
            ]
        );
        assert_eq!(files[0].usernames, ["plain", "crypt"]);
        // No hash for these users: the plain files, no column.
        assert_eq!(with_hashes(&header, &plain, &hashes(&[("other", Algorithm::Bcrypt, "$2b$")])).unwrap(), plain);
    }

    #[test]
    fn a_header_that_lists_password_hash_is_filled_in_place() {
        let header = header(&["password_hash", "name", "cognito:username"]);
        let users = [user(0, "a", &[("name", "A")]), user(1, "b", &[])];
        let refs: Vec<&DeclaredUser> = users.iter().collect();
        let plain = build_files(&header, &refs, PoolMfa::Off).unwrap();
        assert_eq!(text(&plain[0]), "password_hash,name,cognito:username\n,A,a\n,,b\n");
        let files =
            with_hashes(&header, &plain, &hashes(&[("b", Algorithm::Scrypt, "$scrypt$ln=4,r=8,p=1$s$h")])).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(text(&files[0]), "password_hash,name,cognito:username\n,A,a\n$scrypt$ln=4\\,r=8\\,p=1$s$h,,b\n");
        assert_eq!(files[0].algorithm, Some(Algorithm::Scrypt));
    }

    #[test]
    fn a_hash_that_makes_a_row_too_long_names_the_user() {
        let header = header(&["cognito:username"]);
        let plain = build_files(&header, &[&user(0, "a", &[])], PoolMfa::Off).unwrap();
        let limits = Limits { rows: MAX_ROWS, bytes: MAX_BYTES, row_chars: 10 };
        let file = hashes(&[("a", Algorithm::Bcrypt, "$2b$04$0123456789")]);
        assert_eq!(with_hashes_and_limits(&header, &plain, &file, limits).unwrap_err(), ["a"]);
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn write_private_is_0600_and_truncates() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.csv");
        write_private(&path, b"a long first content\n").unwrap();
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"short\n").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"short\n");
    }

    #[cfg(unix)]
    #[test]
    fn temp_file_is_0600_and_removed_on_drop() {
        let file = private_temp_file(b"cognito:username\na\n").unwrap();
        let path = file.path().to_owned();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"cognito:username\na\n");
        drop(file);
        assert!(!path.exists());
    }
}
