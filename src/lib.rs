//! cognito-sync: declare the users of an AWS Cognito user pool in a YAML manifest, plan the
//! difference against the pool, and import the missing users with one Cognito import job.
//!
//! The pipeline, in module order: [`manifest`] (read and check the file) → pool snapshot →
//! plan → render → apply. Only the `aws.rs` files talk to AWS.

pub mod apply;
pub mod aws;
pub mod changes;
pub mod cli;
mod commands;
pub mod env;
pub mod error;
pub mod import;
pub mod import_file;
pub mod manifest;
pub mod output;
pub mod pace;
pub mod password_hashes;
pub mod plan;
pub mod pool;
pub mod role;
pub mod schema;
pub mod settings;

use std::ffi::OsString;

// Parsing a large manifest allocates millions of small strings on every core; mimalloc does
// that markedly faster than the system allocator (README, "Benchmarks"). It is set here, in
// the library, so that the benchmarks measure what the binary runs; the library is not
// published for other programs to link.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Makes mimalloc give freed memory back to the system when it is freed. By default it waits
/// 10 ms, checked only when the freeing thread next allocates: validating 1M users then
/// peaked at ~900 MiB instead of ~590 MiB, most of it parse buffers already freed (README,
/// "Hostile and large manifests"). The cost, a system call per emptied page, did not show in
/// the benchmarks.
#[allow(unsafe_code)]
fn return_freed_memory_promptly() {
    // SAFETY: `mi_option_set` only stores an integer option; mimalloc reads options
    // atomically, so setting one while other threads allocate is sound (and no other thread
    // runs yet when `run` starts).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// `mi_option_purge_delay` of `mimalloc.h` (15 in mimalloc v2 and v3); the sys crate does
/// not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::Cli;
pub use crate::error::ExitStatus;
use crate::output::Printer;
use crate::settings::{Environment, Settings};

/// Runs cognito-sync with these arguments (the first is the program name).
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitStatus {
    return_freed_memory_promptly();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are successes; every usage error exits 1, so that 2 always
            // means "plan has changes".
            let _ = error.print();
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitStatus::Success,
                _ => ExitStatus::Failure,
            };
        }
    };
    let mut settings = Settings::resolve(&cli.global, &Environment::current());
    settings.command = cli.command.name();
    let printer = Printer::new(&settings);
    match commands::run(cli.command, &settings, &printer) {
        Ok(status) => status,
        Err(report) => {
            let mut rendered = render_report(report.as_ref(), settings.color_stderr, settings.stderr_is_terminal);
            if let Some(manifest_error) = report.downcast_ref::<manifest::ManifestError>() {
                rendered.push_str(&manifest_error.compact_tail());
            }
            printer.error_report(&rendered);
            ExitStatus::Failure
        }
    }
}

/// Renders a diagnostic the way cognito-sync prints every error.
/// Messages wrap at the terminal's width only on a terminal: a log keeps each on one line.
pub fn render_report(diagnostic: &dyn miette::Diagnostic, color: bool, terminal: bool) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let width = if terminal { 100 } else { usize::MAX / 2 };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &Tidy::new(diagnostic)).is_err() {
        out = format!("error: {diagnostic}\n");
    }
    out
}

/// A diagnostic shown with a tidy chain of causes: the AWS SDK wraps a service error in
/// layers that print nothing new ("service error", "dispatch failure") or the same line two
/// or three times. One mistake, one line per cause.
struct Tidy<'a> {
    inner: &'a dyn miette::Diagnostic,
    causes: Option<Box<Cause>>,
}

/// Wrapper layers of the AWS SDK and its HTTP client that say nothing of their own.
const SAYS_NOTHING: [&str; 7] = [
    "service error",
    "dispatch failure",
    "io error",
    "response error",
    "unhandled error",
    "construction failure",
    "timeout error",
];

impl<'a> Tidy<'a> {
    fn new(inner: &'a dyn miette::Diagnostic) -> Self {
        let headline = inner.to_string();
        let mut kept: Vec<String> = Vec::new();
        let mut source = inner.source();
        while let Some(error) = source {
            let text = error.to_string();
            let line = text.trim();
            let repeated = headline.contains(line) || kept.iter().any(|k| k.contains(line));
            if !line.is_empty() && !repeated && !SAYS_NOTHING.contains(&line) {
                kept.push(text);
            }
            source = error.source();
        }
        let causes = kept.into_iter().rev().fold(None, |next, text| Some(Box::new(Cause { text, next })));
        Tidy { inner, causes }
    }
}

impl std::fmt::Debug for Tidy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.inner, f)
    }
}

impl std::fmt::Display for Tidy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Tidy<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.causes.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl miette::Diagnostic for Tidy<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.help()
    }
    fn url<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.url()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        self.inner.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn miette::Diagnostic> {
        self.inner.diagnostic_source()
    }
}

/// One kept cause of a [`Tidy`] diagnostic.
#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    #[derive(Debug, thiserror::Error, miette::Diagnostic)]
    #[error("failed to describe user pool `x`: user pool `x` does not exist")]
    #[diagnostic(help("check `pool.id`"))]
    struct Failed(#[source] Layer);

    // See: #15. The SDK's layers print "service error", then the same cause twice.
    #[test]
    fn causes_are_shown_once_and_wrappers_not_at_all() {
        let chain = Layer(
            "service error",
            Some(Box::new(Layer(
                "ResourceNotFoundException: User pool x does not exist.",
                Some(Box::new(Layer("ResourceNotFoundException: User pool x does not exist.", None))),
            ))),
        );
        let text = super::render_report(&Failed(chain), false, false);
        assert_eq!(
            text,
            "  × failed to describe user pool `x`: user pool `x` does not exist\n  ╰─▶ ResourceNotFoundException: User pool x does not exist.\n  help: check `pool.id`\n"
        );
    }
}
