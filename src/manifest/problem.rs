//! Manifest problems and how they are reported: every problem at once, sorted, each
//! pointing at its place in the file and saying what would be right.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// How many problems are shown with a snippet of the manifest. The others get one compact
/// located line each: a manifest with 100,000 bad users reports them all, in linear time,
/// without burying the first ones in a million lines of snippets.
pub const DETAILED_PROBLEMS: usize = 20;
/// A snippet shows at most this many bytes of a line before the problem...
const SNIPPET_BEFORE: usize = 80;
/// ...and after its start, however long the line (a 20 MB value, a one-line JSON manifest).
const SNIPPET_AFTER: usize = 160;
/// The longest underline under a problem.
const MAX_LABEL: usize = 120;
/// Messages, paths and usernames longer than this many characters are shown cut in the
/// middle: they quote values from the manifest, which may be megabytes long.
const MAX_SHOWN_CHARS: usize = 300;

/// Where a problem is, as a path into the manifest (`users[3].email`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ManifestPath {
    /// The user's index, when the problem is about one user.
    pub user: Option<usize>,
    /// The rest of the path, e.g. `email` or `custom.department`, or a top-level path
    /// such as `pool.id` when `user` is `None`.
    pub field: String,
}

impl ManifestPath {
    pub fn top(field: impl Into<String>) -> Self {
        ManifestPath { user: None, field: field.into() }
    }

    pub fn user(index: usize, field: impl Into<String>) -> Self {
        ManifestPath { user: Some(index), field: field.into() }
    }
}

impl fmt::Display for ManifestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.user, self.field.is_empty()) {
            (Some(i), true) => write!(f, "users[{i}]"),
            (Some(i), false) => write!(f, "users[{i}].{}", self.field),
            (None, _) => f.write_str(&self.field),
        }
    }
}

/// One thing wrong with a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: ManifestPath,
    /// The username of the user concerned, when there is one.
    pub username: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// What would be right.
    pub help: Option<String>,
    /// Where in the text, when known.
    pub span: Option<SourceSpan>,
}

impl Problem {
    pub fn new(path: ManifestPath, message: impl Into<String>) -> Self {
        Problem { path, username: None, message: message.into(), help: None, span: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn for_user(mut self, username: &str) -> Self {
        if !username.is_empty() {
            self.username = Some(username.to_owned());
        }
        self
    }

    fn sort_key(&self) -> (Option<usize>, usize, &str, &str) {
        (self.path.user, self.span.map_or(usize::MAX, |s| s.offset()), &self.path.field, &self.message)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.to_string();
        let path = clip(&path);
        let message = clip(&self.message);
        match &self.username {
            Some(name) => write!(f, "{path} (`{}`): {message}", clip(name)),
            None if self.path.field.is_empty() && self.path.user.is_none() => f.write_str(&message),
            None => write!(f, "{path}: {message}"),
        }
    }
}

/// `text`, or its start and end around a `…` when it is longer than [`MAX_SHOWN_CHARS`].
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    // Bytes bound chars from above: most texts are decided without counting.
    if text.len() <= MAX_SHOWN_CHARS || text.chars().nth(MAX_SHOWN_CHARS).is_none() {
        return text.into();
    }
    let head: String = text.chars().take(MAX_SHOWN_CHARS / 2).collect();
    let tail_chars = MAX_SHOWN_CHARS / 3;
    let tail_start = text.char_indices().rev().nth(tail_chars - 1).map_or(0, |(i, _)| i);
    let omitted = text[head.len()..tail_start].chars().count();
    format!("{head}…({omitted} characters)…{}", &text[tail_start..]).into()
}

/// Sorts problems by position (top-level first, then user by user) and drops duplicates.
pub fn sort_problems(problems: &mut Vec<Problem>) {
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    problems.dedup();
}

/// The manifest text, shared by every diagnostic that points into it.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceText {
    pub fn display_name(&self) -> String {
        self.path.display().to_string()
    }
}

/// The manifest text as diagnostics read it. Its line index is built once, so that placing
/// a problem is a binary search, not a scan from the start of the file (which made many
/// problems quadratic), and it hands out windows of a few hundred bytes, never whole lines.
#[derive(Debug)]
pub struct Excerpts {
    name: String,
    text: Arc<str>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl Excerpts {
    pub fn new(source: &SourceText) -> Self {
        let bytes = source.text.as_bytes();
        let line_starts = std::iter::once(0)
            .chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
            .collect();
        let text = match redact_passwords(&source.text) {
            Some(redacted) => Arc::from(redacted),
            None => Arc::clone(&source.text),
        };
        Excerpts { name: source.display_name(), text, line_starts }
    }

    /// The 0-based line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1)
    }

    /// The byte range of line `line`, without its line break.
    fn line_bounds(&self, line: usize) -> (usize, usize) {
        let start = self.line_starts[line];
        let end = self.line_starts.get(line + 1).map_or(self.text.len(), |next| next - 1);
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        (start, end.max(start))
    }

    /// 1-based line and column (in bytes, as miette counts them) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        (line + 1, offset - self.line_starts[line] + 1)
    }

    /// `span` inside the text, on char boundaries, on one line and at most [`MAX_LABEL`]
    /// bytes long.
    fn clamp(&self, span: SourceSpan) -> SourceSpan {
        let start = self.text.floor_char_boundary(span.offset().min(self.text.len()));
        let (_, line_end) = self.line_bounds(self.line_of(start));
        let end = (start + span.len().min(MAX_LABEL)).min(line_end.max(start));
        let end = self.text.floor_char_boundary(end);
        SourceSpan::new(start.into(), end - start)
    }
}

impl SourceCode for Excerpts {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let span = self.clamp(*span);
        let (start, end) = (span.offset(), span.offset() + span.len());
        let line = self.line_of(start);
        let (line_start, line_end) = self.line_bounds(line);
        let bytes = self.text.as_bytes();
        let contents = |from: usize, to: usize, first_line: usize, lines: usize| {
            let column = from - self.line_starts[first_line];
            let span = SourceSpan::new(from.into(), to - from);
            Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                &bytes[from..to],
                span,
                first_line,
                column,
                lines,
            )) as Box<dyn SpanContents<'a> + 'a>
        };
        if context_lines_before == 0 && context_lines_after == 0 {
            return Ok(contents(start, end, line, 1));
        }
        // A window of the problem's line; whole neighbouring lines only when they are short.
        let mut from = self.text.floor_char_boundary(start.saturating_sub(SNIPPET_BEFORE).max(line_start));
        let mut to = self.text.ceil_char_boundary((end.max(start + 1) + SNIPPET_AFTER).min(line_end));
        let short = |l: usize| {
            let (s, e) = self.line_bounds(l);
            e - s <= SNIPPET_BEFORE + SNIPPET_AFTER
        };
        let mut first_line = line;
        while from == line_start && line - first_line < context_lines_before && first_line > 0 && short(first_line - 1)
        {
            first_line -= 1;
            from = self.line_starts[first_line];
        }
        let mut last_line = line;
        while to == line_end
            && last_line - line < context_lines_after
            && last_line + 1 < self.line_starts.len()
            && short(last_line + 1)
        {
            last_line += 1;
            to = self.line_bounds(last_line).1;
        }
        Ok(contents(from, to.max(from), first_line, last_line - first_line + 1))
    }
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        help: String,
    },
    #[error("manifest `{}` is {}, over the limit of {} MiB", path.display(), size.map_or_else(|| "longer".to_owned(), |s| format!("{s} bytes")), limit >> 20)]
    TooLarge { path: PathBuf, size: Option<u64>, limit: u64 },
    #[error("{headline}")]
    Invalid { headline: String, problems: Vec<LocatedProblem>, excerpts: Arc<Excerpts> },
}

impl ManifestError {
    pub fn read(path: PathBuf, source: std::io::Error) -> Self {
        let help = match source.kind() {
            std::io::ErrorKind::NotFound => {
                "create it (see `examples/users.yaml`), or pass the manifest's path, e.g. `cognito-sync validate path/to/users.yaml`"
                    .to_owned()
            }
            std::io::ErrorKind::PermissionDenied => "check the file's permissions".to_owned(),
            std::io::ErrorKind::InvalidData => "save the manifest as UTF-8".to_owned(),
            _ => "check that the path names a readable file".to_owned(),
        };
        ManifestError::Read { path, source, help }
    }

    pub fn too_large(path: PathBuf, size: Option<u64>, limit: u64) -> Self {
        ManifestError::TooLarge { path, size, limit }
    }

    /// Sorts and deduplicates `problems` and attaches the source text to each.
    pub fn invalid(source_text: &SourceText, mut problems: Vec<Problem>) -> Self {
        sort_problems(&mut problems);
        let headline = match problems.len() {
            1 => format!("1 problem in manifest `{}`", source_text.display_name()),
            n => format!("{n} problems in manifest `{}`", source_text.display_name()),
        };
        let excerpts = Arc::new(Excerpts::new(source_text));
        let problems =
            problems.into_iter().map(|problem| LocatedProblem { problem, source: Arc::clone(&excerpts) }).collect();
        ManifestError::Invalid { headline, problems, excerpts }
    }

    /// What follows the rendered report when there are more than `DETAILED_PROBLEMS` (20)
    /// problems: one compact line `file:line:col path: message` for each of the others,
    /// then the count. Empty otherwise.
    pub fn compact_tail(&self) -> String {
        let ManifestError::Invalid { problems, excerpts, .. } = self else { return String::new() };
        if problems.len() <= DETAILED_PROBLEMS {
            return String::new();
        }
        let rest = &problems[DETAILED_PROBLEMS..];
        let mut out = String::with_capacity(rest.len() * 80);
        out.push('\n');
        for located in rest {
            let problem = &located.problem;
            let place = match problem.span {
                Some(span) => {
                    let (line, column) = excerpts.line_col(span.offset());
                    format!("{}:{line}:{column}", excerpts.name)
                }
                None => excerpts.name.clone(),
            };
            out.push_str(&format!("  {place} {problem}\n"));
        }
        out.push_str(&format!(
            "\n{} problems in manifest `{}`: the first {DETAILED_PROBLEMS} with a snippet, the other {} one per line\n",
            problems.len(),
            excerpts.name,
            rest.len()
        ));
        out
    }

    /// The problems, for tests and the JSON output.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        let located: &[LocatedProblem] = match self {
            ManifestError::Invalid { problems, .. } => problems,
            ManifestError::Read { .. } | ManifestError::TooLarge { .. } => &[],
        };
        located.iter().map(|l| &l.problem)
    }
}

impl Diagnostic for ManifestError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            ManifestError::Read { help, .. } => Some(Box::new(help)),
            ManifestError::TooLarge { .. } => Some(Box::new(
                "cognito-sync reads manifests of up to 256 MiB, over a million users (README, \"Limits\"); check that the path names the manifest, not a device or an endless stream",
            )),
            ManifestError::Invalid { .. } => Some(Box::new(
                "nothing was changed and no file was written; fix the problems below and run the command again",
            )),
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        match self {
            ManifestError::Invalid { problems, .. } => {
                Some(Box::new(problems.iter().take(DETAILED_PROBLEMS).map(|p| p as &dyn Diagnostic)))
            }
            ManifestError::Read { .. } | ManifestError::TooLarge { .. } => None,
        }
    }
}

/// One problem with the manifest text attached, so that it renders with its snippet.
pub struct LocatedProblem {
    pub problem: Problem,
    source: Arc<Excerpts>,
}

impl fmt::Debug for LocatedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.problem, f)
    }
}

impl fmt::Display for LocatedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.problem, f)
    }
}

impl std::error::Error for LocatedProblem {}

impl Diagnostic for LocatedProblem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.help.as_deref().map(|h| Box::new(clip(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.problem.span.map(|_| &*self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.problem.span.map(|span| {
            let span = self.source.clamp(span);
            Box::new(std::iter::once(LabeledSpan::new_with_span(Some("here".to_owned()), span)))
                as Box<dyn Iterator<Item = LabeledSpan>>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(text: &str) -> Excerpts {
        Excerpts::new(&SourceText { path: "users.yaml".into(), text: text.into() })
    }

    #[test]
    fn clips_long_texts_in_the_middle() {
        assert_eq!(clip("short"), "short");
        let long = format!("`{}` is not valid", "é".repeat(10_000));
        let clipped = clip(&long);
        assert!(clipped.chars().count() < MAX_SHOWN_CHARS + 40, "{clipped}");
        assert!(clipped.starts_with("`éé") && clipped.ends_with("éé` is not valid"), "{clipped}");
        assert!(clipped.contains("…(9765 characters)…"), "{clipped}");
    }

    #[test]
    fn places_offsets_by_line_and_byte_column() {
        let ex = excerpts("a: 1\r\nbb: 2\n\nc: x\n");
        assert_eq!(ex.line_col(0), (1, 1));
        assert_eq!(ex.line_col(7), (2, 2));
        assert_eq!(ex.line_col(13), (4, 1));
        assert_eq!(ex.line_col(999), (5, 1));
        assert_eq!(ex.line_bounds(0), (0, 4));
    }

    #[test]
    fn windows_stay_short_on_long_lines_and_keep_short_neighbours() {
        let text = format!("version: 1\nkey: {}é{}\nnext: 1\n", "x".repeat(1_000_000), "y".repeat(1_000_000));
        let ex = excerpts(&text);
        let at = text.find('é').unwrap() + 1; // inside the two-byte character
        let span = ex.clamp(SourceSpan::new(at.into(), 5_000_000));
        assert_eq!(span.offset(), at - 1);
        assert!(span.len() <= MAX_LABEL);
        let contents = ex.read_span(&span, 1, 1).unwrap();
        assert!(contents.data().len() <= SNIPPET_BEFORE + SNIPPET_AFTER + MAX_LABEL + 4);
        assert_eq!(contents.line(), 1);
        assert!(std::str::from_utf8(contents.data()).is_ok());
        // A short line gets its neighbours as context.
        let ex = excerpts("a: 1\nb: 2\nc: 3\n");
        let contents = ex.read_span(&SourceSpan::new(5.into(), 4), 1, 1).unwrap();
        assert_eq!(std::str::from_utf8(contents.data()).unwrap(), "a: 1\nb: 2\nc: 3");
        assert_eq!((contents.line(), contents.column()), (0, 0));
        let header = ex.read_span(&SourceSpan::new(8.into(), 1), 0, 0).unwrap();
        assert_eq!((header.line(), header.column()), (1, 3));
    }
}

/// The manifest text with the value of every `password` / `password_hash`-like key (SPEC §9:
/// never in a manifest, and never shown) replaced by `*`s of the same byte length, so that
/// no snippet, of that problem or of a neighbouring line, shows it; `None` when there is
/// none. Offsets are kept: only bytes after the key's `:` on its line change.
pub(super) fn redact_passwords(text: &str) -> Option<String> {
    if !text.contains("pass") && !text.contains("hash") {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut changed = false;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_start().trim_start_matches("- ").trim_start();
        let key_end = content.find(':');
        if let Some(key_end) = key_end
            && super::load::is_password_key(content[..key_end].trim().trim_matches(|c| c == '"' || c == '\''))
        {
            let value_start = start + (line.len() - content.len()) + key_end + 1;
            let value_end = start + line.trim_end_matches(['\n', '\r']).len();
            for byte in &mut bytes[value_start..value_end] {
                if !byte.is_ascii_whitespace() {
                    *byte = b'*';
                }
            }
            changed = true;
        }
        start += line.len();
    }
    // Every replaced byte was a whole character or part of one that was replaced whole.
    changed.then(|| String::from_utf8(bytes).unwrap_or_default())
}

#[cfg(test)]
mod password_tests {
    use super::redact_passwords;

    #[test]
    fn password_values_are_starred_in_place() {
        let text =
            "users:\n  - username: a\n    password: hunter2 é\n  - password_hash: \"$2b$x\"\n    email: pass@x.io\n";
        let redacted = redact_passwords(text).unwrap();
        assert_eq!(redacted.len(), text.len());
        assert_eq!(
            redacted,
            "users:\n  - username: a\n    password: ******* **\n  - password_hash: *******\n    email: pass@x.io\n"
        );
        assert_eq!(redact_passwords("users:\n  - username: a\n"), None);
    }
}
