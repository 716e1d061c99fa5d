//! Password hashes for a migration (SPEC §9): the hash file that `--password-hashes FILE`
//! names, read with a size bound, parsed and validated, and never shown.
//!
//! The file is JSON Lines, one user per line, blank lines allowed:
//!
//! ```text
//! {"username": "alice", "algorithm": "BCRYPT", "hash": "$2b$12$..."}
//! ```
//!
//! `algorithm` is one of `BCRYPT`, `SCRYPT`, `ARGON2ID`, `PBKDF2_SHA256` (CreateUserImportJob
//! `PasswordHashingAlgorithm`). The hash must be in the standard encoded form of its
//! algorithm; which forms Cognito expects is not in any documentation we hold (reference
//! §10), so the standard ones are accepted (see [`check_form`]) and the README lists them
//! among the facts to check against a real pool.
//!
//! Secrets: a hash is held in a [`Secret`], which has no `Display`, a redacted `Debug` and
//! no `Serialize`; the only way to its text is [`Secret::expose`], called where the CSV
//! cell is written. Problems name the file and the line, never a hash: JSON syntax errors
//! come from `serde_json::Value` parsing, whose messages carry a position but no input, and
//! the fields are read by hand rather than by a derived `Deserialize`, whose messages can
//! quote a value. Usernames and algorithm names are quoted only when they cannot be a hash
//! (see [`shown`]). Nothing here renders a source snippet.
//!
//! Pure, except [`read`], which reads the file and its permissions.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The largest hash file read: a hash line is about 100–200 bytes, so this is millions of
/// users, far more than one import job holds (500,000 rows), and a bound on memory.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// The longest line: the longest standard hash string is a few hundred characters.
pub const MAX_LINE_BYTES: usize = 4096;

/// A password hashing algorithm Cognito's import accepts (`PasswordHashingAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Algorithm {
    Bcrypt,
    Scrypt,
    Argon2id,
    Pbkdf2Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] =
        [Algorithm::Bcrypt, Algorithm::Scrypt, Algorithm::Argon2id, Algorithm::Pbkdf2Sha256];

    /// The name in the hash file and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Bcrypt => "BCRYPT",
            Algorithm::Scrypt => "SCRYPT",
            Algorithm::Argon2id => "ARGON2ID",
            Algorithm::Pbkdf2Sha256 => "PBKDF2_SHA256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The standard encoded form accepted, in words, for messages and the README.
    pub fn form(self) -> &'static str {
        match self {
            Algorithm::Bcrypt => {
                "modular crypt `$2b$` (or `$2a$`, `$2y$`), a two-digit cost 04-31, `$`, 53 characters of salt and hash"
            }
            Algorithm::Scrypt => "PHC string `$scrypt$ln=N,r=R,p=P$salt$hash`",
            Algorithm::Argon2id => "PHC string `$argon2id$v=19$m=M,t=T,p=P$salt$hash`",
            Algorithm::Pbkdf2Sha256 => "PHC string `$pbkdf2-sha256$i=N[,l=L]$salt$hash`",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A password hash. It has no `Display` and no `Serialize`, and its `Debug` is redacted, so
/// that no format string, log or report can show it by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(hash: impl Into<String>) -> Self {
        Secret(hash.into())
    }

    /// The hash itself: only for the import CSV's cell.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One user's hash, from line `line` (counting from 1) of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry {
    pub line: usize,
    pub algorithm: Algorithm,
    pub hash: Secret,
}

/// A hash file, parsed: one entry per username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashFile {
    /// The path as given, for messages.
    pub path: String,
    /// SHA-256 (hex) of the file's bytes: a saved plan records it instead of the hashes.
    pub digest: String,
    pub entries: BTreeMap<String, HashEntry>,
}

impl HashFile {
    pub fn get(&self, username: &str) -> Option<&HashEntry> {
        self.entries.get(username)
    }

    pub fn algorithm_of(&self, username: &str) -> Option<Algorithm> {
        self.get(username).map(|e| e.algorithm)
    }
}

/// One problem of a hash file, located by line. Its text never holds a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashProblem {
    pub line: usize,
    pub message: String,
    pub help: Option<String>,
}

/// Why a hash file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HashFileError {
    #[error("cannot read the password-hash file `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the password-hash file `{path}` is larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("{headline}")]
    Invalid { headline: String, problems: Vec<LocatedHashProblem> },
}

impl miette::Diagnostic for HashFileError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self {
            HashFileError::Read { .. } => {
                "pass the path of a readable file to `--password-hashes` (or `COGNITO_SYNC_PASSWORD_HASHES`)"
            }
            HashFileError::TooLarge { .. } => {
                "split the migration: import part of the users with a smaller hash file, then the rest"
            }
            HashFileError::Invalid { .. } => {
                "nothing was sent and no file was written; fix the lines below (hashes are never shown) and run the command again"
            }
        }))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        match self {
            HashFileError::Invalid { problems, .. } => {
                Some(Box::new(problems.iter().map(|p| p as &dyn miette::Diagnostic)))
            }
            _ => None,
        }
    }
}

/// A problem with the file it is in, as `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedHashProblem {
    pub path: String,
    pub problem: HashProblem,
}

impl fmt::Display for LocatedHashProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` line {}: {}", self.path, self.problem.line, self.problem.message)
    }
}

impl std::error::Error for LocatedHashProblem {}

impl miette::Diagnostic for LocatedHashProblem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

impl HashFileError {
    fn invalid(path: &str, mut problems: Vec<HashProblem>) -> Self {
        problems.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
        problems.dedup();
        let headline = match problems.len() {
            1 => format!("1 problem in the password-hash file `{path}`"),
            n => format!("{n} problems in the password-hash file `{path}`"),
        };
        let problems =
            problems.into_iter().map(|problem| LocatedHashProblem { path: path.to_owned(), problem }).collect();
        HashFileError::Invalid { headline, problems }
    }

    /// The problems, for tests and callers that list them.
    pub fn problems(&self) -> &[LocatedHashProblem] {
        match self {
            HashFileError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// A hash file read from disk, before validation: its text and whether others can read it.
#[derive(Debug)]
pub struct RawHashFile {
    pub path: String,
    pub bytes: Vec<u8>,
    /// The file's permission bits when group or others may read it (Unix), for a warning.
    pub readable_by_others: Option<u32>,
}

/// Reads the hash file, at most [`MAX_FILE_BYTES`].
pub fn read(path: &Path) -> Result<RawHashFile, HashFileError> {
    let shown = path.display().to_string();
    let read_error = |source| HashFileError::Read { path: shown.clone(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(HashFileError::TooLarge { path: shown, max: MAX_FILE_BYTES });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // The bound holds even if the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(HashFileError::TooLarge { path: shown, max: MAX_FILE_BYTES });
    }
    Ok(RawHashFile { path: shown, bytes, readable_by_others: readable_by_others(&metadata) })
}

#[cfg(unix)]
fn readable_by_others(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_: &std::fs::Metadata) -> Option<u32> {
    None
}

/// The warning for a file that group or others can read, if it is one.
pub fn permission_warning(raw: &RawHashFile) -> Option<String> {
    raw.readable_by_others.map(|mode| {
        format!(
            "the password-hash file `{}` is readable by {} (mode {mode:04o}): password hashes are secrets; `chmod 600 {}`",
            raw.path,
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (true, true) => "its group and others",
                (true, false) => "its group",
                _ => "others",
            },
            raw.path
        )
    })
}

/// Parses and validates a hash file against the declared usernames (`None`: a saved plan's
/// file, whose digest is checked instead). Every problem is reported, each by line; none
/// quotes a hash.
pub fn parse(raw: &RawHashFile, declared: Option<&HashSet<&str>>) -> Result<HashFile, HashFileError> {
    let digest = format!("{:x}", Sha256::digest(&raw.bytes));
    let Ok(text) = std::str::from_utf8(&raw.bytes) else {
        let line = raw
            .bytes
            .iter()
            .take(std::str::from_utf8(&raw.bytes).unwrap_err().valid_up_to())
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Err(HashFileError::invalid(
            &raw.path,
            vec![HashProblem {
                line,
                message: "the file is not UTF-8".to_owned(),
                help: Some("save it as UTF-8".to_owned()),
            }],
        ));
    };
    let mut problems = Vec::new();
    let mut entries: BTreeMap<String, HashEntry> = BTreeMap::new();
    // The first line of each username, valid or not: a second line is a duplicate either way.
    let mut first_lines: std::collections::HashMap<String, usize> = Default::default();
    for (i, line) in text.split('\n').enumerate() {
        let number = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Err(problem) => problems.push(HashProblem { line: number, ..problem }),
            Ok((username, algorithm, hash)) => {
                let before = problems.len();
                if declared.is_some_and(|declared| !declared.contains(username.as_str())) {
                    problems.push(HashProblem {
                        line: number,
                        message: format!("{} is not declared in the manifest", shown_username(&username)),
                        help: Some(
                            "the file may hold hashes of declared users only: remove the line, or declare the user"
                                .to_owned(),
                        ),
                    });
                }
                if let Some(first) = first_lines.get(&username) {
                    problems.push(HashProblem {
                        line: number,
                        message: format!("{} has a hash on line {first} already", shown_username(&username)),
                        help: Some("keep one line per user".to_owned()),
                    });
                }
                first_lines.entry(username.clone()).or_insert(number);
                if let Err(message) = check_form(algorithm, &hash) {
                    problems.push(HashProblem {
                        line: number,
                        message: format!("the hash of {} {message}", shown_username(&username)),
                        help: Some(format!("accepted for {algorithm}: {}", algorithm.form())),
                    });
                }
                if problems.len() == before {
                    entries.insert(username, HashEntry { line: number, algorithm, hash: Secret(hash) });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(HashFile { path: raw.path.clone(), digest, entries })
    } else {
        Err(HashFileError::invalid(&raw.path, problems))
    }
}

/// One non-blank line → (username, algorithm, hash). The problem's line is filled in by
/// the caller.
fn parse_line(line: &str) -> Result<(String, Algorithm, String), HashProblem> {
    let problem = |message: String, help: &str| HashProblem { line: 0, message, help: Some(help.to_owned()) };
    const SHAPE: &str =
        r#"each line is one JSON object: {"username": "alice", "algorithm": "BCRYPT", "hash": "$2b$12$..."}"#;
    if line.len() > MAX_LINE_BYTES {
        return Err(problem(format!("the line is longer than {MAX_LINE_BYTES} bytes"), SHAPE));
    }
    // `Value` first: serde_json's syntax errors give a position, never the input.
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| problem(format!("not valid JSON (column {}): {}", e.column(), syntax_kind(&e)), SHAPE))?;
    let serde_json::Value::Object(object) = value else {
        return Err(problem("expected a JSON object".to_owned(), SHAPE));
    };
    for key in object.keys() {
        if !["username", "algorithm", "hash"].contains(&key.as_str()) {
            let key = if is_plain_word(key) { format!("unknown key `{key}`") } else { "an unknown key".to_owned() };
            return Err(problem(key, "the keys are `username`, `algorithm` and `hash`"));
        }
    }
    let field = |name: &str| -> Result<String, HashProblem> {
        match object.get(name) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(problem(format!("`{name}` must be a string"), SHAPE)),
            None => Err(problem(format!("missing key `{name}`"), SHAPE)),
        }
    };
    let username = field("username")?;
    let algorithm = field("algorithm")?;
    let hash = field("hash")?;
    let algorithm = Algorithm::from_name(&algorithm).ok_or_else(|| {
        let what = if is_plain_word(&algorithm) && algorithm.len() <= 32 {
            format!("unknown algorithm `{algorithm}`")
        } else {
            "unknown algorithm".to_owned()
        };
        problem(what, "the algorithm is one of `BCRYPT`, `SCRYPT`, `ARGON2ID`, `PBKDF2_SHA256`, in capitals")
    })?;
    if username.is_empty() {
        return Err(problem("`username` is empty".to_owned(), SHAPE));
    }
    Ok((username, algorithm, hash))
}

/// What kind of JSON error, in words that never quote the line.
fn syntax_kind(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Eof => "the line ends too early",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "a read error",
    }
}

fn is_plain_word(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A username for a message, in backticks; one that could be a misplaced hash (it holds a
/// `$`, or is long) is not quoted.
fn shown_username(username: &str) -> String {
    if shown(username) { format!("user `{username}`") } else { "the user on this line".to_owned() }
}

/// Whether a value from the file may be quoted in a message: not a hash by its look.
pub fn shown(value: &str) -> bool {
    value.len() <= 128 && !value.contains('$') && !value.chars().any(char::is_control)
}

/// Checks that `hash` is in the standard encoded form of `algorithm`; the error completes
/// "the hash of USER ..." and never quotes the hash.
///
/// Accepted (chosen: Cognito's expectation is undocumented, reference §10):
/// - BCRYPT: modular crypt `$2a$`/`$2b$`/`$2y$`, cost `04`-`31`, 22 characters of salt and
///   31 of hash in bcrypt's base-64 alphabet (`./A-Za-z0-9`), as every bcrypt library writes.
/// - ARGON2ID: a PHC string, `$argon2id$v=19$m=..,t=..,p=..$salt$hash` (the reference
///   implementation's form; version 19 = 0x13), salt and hash in unpadded base 64.
/// - SCRYPT: a PHC string, `$scrypt$ln=..,r=..,p=..$salt$hash` (the form of passlib and
///   of RustCrypto's `scrypt`).
/// - PBKDF2_SHA256: a PHC string, `$pbkdf2-sha256$i=..[,l=..]$salt$hash` (RustCrypto's
///   `pbkdf2`). passlib's `$pbkdf2-sha256$ROUNDS$salt$hash` and Django's `pbkdf2_sha256$...`
///   are not PHC strings and are refused, with a hint.
///
/// PHC strings are parsed by the `password-hash` crate (RustCrypto), which also checks the
/// base-64 of the hash.
pub fn check_form(algorithm: Algorithm, hash: &str) -> Result<(), String> {
    if hash.is_empty() {
        return Err("is empty".to_owned());
    }
    if hash.trim() != hash || hash.chars().any(char::is_whitespace) {
        return Err("contains whitespace".to_owned());
    }
    let looks_like = looks_like(hash);
    let other = |found: Option<Algorithm>| match found {
        Some(found) if found != algorithm => format!("looks like {found}, not {algorithm}"),
        _ => format!("is not in the standard form of {algorithm}"),
    };
    match algorithm {
        Algorithm::Bcrypt => {
            if bcrypt_form(hash) {
                Ok(())
            } else {
                Err(other(looks_like))
            }
        }
        Algorithm::Argon2id | Algorithm::Scrypt | Algorithm::Pbkdf2Sha256 => {
            let Ok(phc) = password_hash::PasswordHash::new(hash) else {
                return Err(other(looks_like));
            };
            let (ident, params): (&str, &[&str]) = match algorithm {
                Algorithm::Argon2id => ("argon2id", &["m", "t", "p"]),
                Algorithm::Scrypt => ("scrypt", &["ln", "r", "p"]),
                _ => ("pbkdf2-sha256", &["i"]),
            };
            if phc.algorithm.as_str() != ident {
                return Err(other(looks_like));
            }
            if algorithm == Algorithm::Argon2id && phc.version != Some(19) {
                return Err("has no version `v=19`".to_owned());
            }
            for param in params {
                if phc.params.get_decimal(*param).is_none() {
                    return Err(format!("has no parameter `{param}=` (a number)"));
                }
            }
            if phc.salt.is_none() || phc.hash.is_none() {
                return Err("has no salt and hash parts".to_owned());
            }
            Ok(())
        }
    }
}

fn bcrypt_form(hash: &str) -> bool {
    let bytes = hash.as_bytes();
    if bytes.len() != 60 || !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
        return false;
    }
    let cost = &hash[4..6];
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/';
    cost.bytes().all(|b| b.is_ascii_digit())
        && (4..=31).contains(&cost.parse::<u32>().unwrap_or(0))
        && bytes[6] == b'$'
        && bytes[7..].iter().all(alphabet)
}

/// Which algorithm a hash string names by its prefix, if any.
fn looks_like(hash: &str) -> Option<Algorithm> {
    [
        ("$2a$", Algorithm::Bcrypt),
        ("$2b$", Algorithm::Bcrypt),
        ("$2y$", Algorithm::Bcrypt),
        ("$argon2id$", Algorithm::Argon2id),
        ("$scrypt$", Algorithm::Scrypt),
        ("$pbkdf2-sha256$", Algorithm::Pbkdf2Sha256),
    ]
    .into_iter()
    .find(|(prefix, _)| hash.starts_with(prefix))
    .map(|(_, algorithm)| algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hashes of "correct horse" made by standard libraries (Python bcrypt 4, argon2-cffi,
    // hashlib scrypt/pbkdf2_hmac in PHC form).
    const BCRYPT: &str = "$2b$04$0O47KTmddmwjoIij0Hip5uf5czYMKzsswUF/O6EINlQrJ7A8MVZ86";
    const ARGON2ID: &str =
        "$argon2id$v=19$m=1024,t=1,p=1$h1hHJtTt0TywuNMoLGMhww$LVYjoLhp3C18uHZSsVPVT5+fK3+pbgrYuSmFbTKoI8U";
    const SCRYPT: &str = "$scrypt$ln=4,r=8,p=1$bHFlekLPLB32xmkKZydMFw$+GcQNH5PHRJYJfBWXZxty7MDLza9PX40KIuv2hndSpA";
    const PBKDF2: &str =
        "$pbkdf2-sha256$i=1000,l=32$bHFlekLPLB32xmkKZydMFw$9SMI9TdE77YUGMI+J6ddXaueHVdkG1uy6qWH8pRwtvs";

    fn raw(text: &str) -> RawHashFile {
        RawHashFile { path: "hashes.jsonl".to_owned(), bytes: text.as_bytes().to_vec(), readable_by_others: None }
    }

    fn line(username: &str, algorithm: &str, hash: &str) -> String {
        serde_json::json!({"username": username, "algorithm": algorithm, "hash": hash}).to_string()
    }

    fn declared() -> HashSet<&'static str> {
        ["alice", "bob", "carol", "dave"].into_iter().collect()
    }

    fn problems(text: &str) -> Vec<String> {
        let error = parse(&raw(text), Some(&declared())).unwrap_err();
        error.problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn standard_forms_of_all_four_algorithms_are_accepted() {
        assert_eq!(check_form(Algorithm::Bcrypt, BCRYPT), Ok(()));
        assert_eq!(check_form(Algorithm::Bcrypt, &BCRYPT.replacen("$2b$", "$2a$", 1)), Ok(()));
        assert_eq!(check_form(Algorithm::Bcrypt, &BCRYPT.replacen("$2b$", "$2y$", 1)), Ok(()));
        assert_eq!(check_form(Algorithm::Argon2id, ARGON2ID), Ok(()));
        assert_eq!(check_form(Algorithm::Scrypt, SCRYPT), Ok(()));
        assert_eq!(check_form(Algorithm::Pbkdf2Sha256, PBKDF2), Ok(()));
        assert_eq!(check_form(Algorithm::Pbkdf2Sha256, &PBKDF2.replace("i=1000,l=32", "i=1000")), Ok(()));
    }

    #[test]
    fn other_forms_are_refused_without_quoting_the_hash() {
        let cases = [
            (Algorithm::Bcrypt, ARGON2ID, "looks like ARGON2ID, not BCRYPT"),
            (Algorithm::Bcrypt, &BCRYPT[..59], "is not in the standard form of BCRYPT"),
            (Algorithm::Bcrypt, &BCRYPT.replacen("$04$", "$03$", 1), "is not in the standard form of BCRYPT"),
            (Algorithm::Bcrypt, &BCRYPT.replacen("$2b$", "$2x$", 1), "is not in the standard form of BCRYPT"),
            (Algorithm::Bcrypt, &format!("{}!", &BCRYPT[..59]), "is not in the standard form of BCRYPT"),
            (Algorithm::Argon2id, &ARGON2ID.replace("argon2id", "argon2i"), "is not in the standard form of ARGON2ID"),
            (Algorithm::Argon2id, &ARGON2ID.replace("v=19$", ""), "has no version `v=19`"),
            (Algorithm::Argon2id, &ARGON2ID.replace("m=1024,", ""), "has no parameter `m=` (a number)"),
            (Algorithm::Scrypt, &SCRYPT.replace("ln=4", "n=16"), "has no parameter `ln=` (a number)"),
            (Algorithm::Scrypt, "$scrypt$ln=4,r=8,p=1$bHFlekLPLB32xmkKZydMFw", "has no salt and hash parts"),
            (Algorithm::Scrypt, &SCRYPT.replace("dSpA", "dSp!"), "is not in the standard form of SCRYPT"),
            (
                Algorithm::Pbkdf2Sha256,
                "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk",
                "is not in the standard form of PBKDF2_SHA256",
            ),
            (Algorithm::Pbkdf2Sha256, "pbkdf2_sha256$600000$salt$hash", "is not in the standard form of PBKDF2_SHA256"),
            (Algorithm::Pbkdf2Sha256, "", "is empty"),
            (Algorithm::Scrypt, &format!(" {SCRYPT}"), "contains whitespace"),
        ];
        for (algorithm, hash, expected) in cases {
            let error = check_form(algorithm, hash).unwrap_err();
            assert_eq!(error, expected, "{algorithm} {hash}");
            assert!(
                !error.contains(&hash[hash.len().min(8)..].chars().take(10).collect::<String>()) || hash.len() < 12
            );
        }
    }

    #[test]
    fn a_valid_file_with_blank_lines() {
        let text = format!(
            "\n{}\n  \n{}\r\n{}\n{}",
            line("alice", "BCRYPT", BCRYPT),
            line("bob", "ARGON2ID", ARGON2ID),
            line("carol", "SCRYPT", SCRYPT),
            line("dave", "PBKDF2_SHA256", PBKDF2)
        );
        let file = parse(&raw(&text), Some(&declared())).unwrap();
        assert_eq!(file.entries.len(), 4);
        assert_eq!(file.get("alice").unwrap().line, 2);
        assert_eq!(file.algorithm_of("bob"), Some(Algorithm::Argon2id));
        assert_eq!(file.get("carol").unwrap().line, 5);
        assert_eq!(file.get("dave").unwrap().hash.expose(), PBKDF2);
        assert_eq!(file.digest, format!("{:x}", Sha256::digest(text.as_bytes())));
        // Debug never shows a hash.
        assert!(!format!("{file:?}").contains("$2b$"));
        assert!(!format!("{file:?}").contains("$argon2id$"));
    }

    #[test]
    fn every_problem_located_by_line_and_no_hash_quoted() {
        let text = [
            line("alice", "BCRYPT", BCRYPT),
            line("alice", "BCRYPT", BCRYPT),
            line("mallory", "BCRYPT", BCRYPT),
            line("bob", "MD5", BCRYPT),
            line("carol", "BCRYPT", ARGON2ID),
            r#"{"username": "dave", "algorithm": "BCRYPT""#.to_owned(),
            r#"{"username": "dave", "algorithm": "BCRYPT", "hash": 5}"#.to_owned(),
            r#"{"username": "dave", "algorithm": "BCRYPT", "hash": "x", "password": "hunter2"}"#.to_owned(),
            line(BCRYPT, "BCRYPT", BCRYPT),
            line("dave", SCRYPT, BCRYPT),
            "[1, 2]".to_owned(),
        ]
        .join("\n");
        let found = problems(&text);
        assert_eq!(
            found,
            [
                "`hashes.jsonl` line 2: user `alice` has a hash on line 1 already",
                "`hashes.jsonl` line 3: user `mallory` is not declared in the manifest",
                "`hashes.jsonl` line 4: unknown algorithm `MD5`",
                "`hashes.jsonl` line 5: the hash of user `carol` looks like ARGON2ID, not BCRYPT",
                "`hashes.jsonl` line 6: not valid JSON (column 42): the line ends too early",
                "`hashes.jsonl` line 7: `hash` must be a string",
                "`hashes.jsonl` line 8: unknown key `password`",
                "`hashes.jsonl` line 9: the user on this line is not declared in the manifest",
                "`hashes.jsonl` line 10: unknown algorithm",
                "`hashes.jsonl` line 11: expected a JSON object",
            ]
        );
        let rendered = crate::render_report(&parse(&raw(&text), Some(&declared())).unwrap_err(), false, false);
        assert!(rendered.contains("10 problems in the password-hash file `hashes.jsonl`"), "{rendered}");
        for secret in [BCRYPT, ARGON2ID, SCRYPT, "hunter2", &BCRYPT[7..20]] {
            assert!(!rendered.contains(secret), "{rendered}");
        }
    }

    #[test]
    fn not_utf8_names_the_line() {
        let mut bytes = format!("{}\n", line("alice", "BCRYPT", BCRYPT)).into_bytes();
        bytes.extend_from_slice(b"{\"username\": \"\xff\"}\n");
        let error =
            parse(&RawHashFile { path: "h".into(), bytes, readable_by_others: None }, Some(&declared())).unwrap_err();
        assert_eq!(error.problems()[0].to_string(), "`h` line 2: the file is not UTF-8");
    }

    #[cfg(unix)]
    #[test]
    fn reading_checks_permissions_and_size() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hashes.jsonl");
        std::fs::write(&path, line("alice", "BCRYPT", BCRYPT)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let private = read(&path).unwrap();
        assert_eq!(permission_warning(&private), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = read(&path).unwrap();
        let warning = permission_warning(&open).unwrap();
        assert!(warning.contains("readable by its group and others (mode 0644)"), "{warning}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        assert!(permission_warning(&read(&path).unwrap()).unwrap().contains("readable by others (mode 0604)"));
        assert!(matches!(read(&dir.path().join("missing")), Err(HashFileError::Read { .. })));
    }
}
