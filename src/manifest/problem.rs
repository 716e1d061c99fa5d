//! Manifest problems and how they are reported: every problem at once, sorted, each
//! pointing at its place in the file and saying what would be right.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

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
        match &self.username {
            Some(name) => write!(f, "{} (`{name}`): {}", self.path, self.message),
            None if self.path.field.is_empty() && self.path.user.is_none() => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
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

    fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.display_name(), Arc::clone(&self.text)).with_language("yaml")
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
    #[error("{headline}")]
    Invalid { headline: String, problems: Vec<LocatedProblem> },
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

    /// Sorts and deduplicates `problems` and attaches the source text to each.
    pub fn invalid(source_text: &SourceText, mut problems: Vec<Problem>) -> Self {
        sort_problems(&mut problems);
        let headline = match problems.len() {
            1 => format!("1 problem in manifest `{}`", source_text.display_name()),
            n => format!("{n} problems in manifest `{}`", source_text.display_name()),
        };
        let source = source_text.named();
        let problems = problems.into_iter().map(|problem| LocatedProblem { problem, source: source.clone() }).collect();
        ManifestError::Invalid { headline, problems }
    }

    /// The problems, for tests and the JSON output.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        let located: &[LocatedProblem] = match self {
            ManifestError::Invalid { problems, .. } => problems,
            ManifestError::Read { .. } => &[],
        };
        located.iter().map(|l| &l.problem)
    }
}

impl Diagnostic for ManifestError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            ManifestError::Read { help, .. } => Some(Box::new(help)),
            ManifestError::Invalid { .. } => Some(Box::new(
                "nothing was changed and no file was written; fix the problems below and run the command again",
            )),
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        match self {
            ManifestError::Invalid { problems, .. } => Some(Box::new(problems.iter().map(|p| p as &dyn Diagnostic))),
            ManifestError::Read { .. } => None,
        }
    }
}

/// One problem with the manifest text attached, so that it renders with its snippet.
pub struct LocatedProblem {
    pub problem: Problem,
    source: NamedSource<Arc<str>>,
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
        self.problem.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.problem.span.map(|_| &self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.problem.span.map(|span| {
            Box::new(std::iter::once(LabeledSpan::new_with_span(Some("here".to_owned()), span)))
                as Box<dyn Iterator<Item = LabeledSpan>>
        })
    }
}
