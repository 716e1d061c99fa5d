//! cognito-sync: declare the users of an AWS Cognito user pool in a YAML manifest, plan the
//! difference against the pool, and import the missing users with one Cognito import job.
//!
//! The pipeline, in module order: [`manifest`] (read and check the file) → pool snapshot →
//! plan → render → apply. Only the `aws.rs` files talk to AWS.

pub mod apply;
pub mod aws;
pub mod cli;
mod commands;
pub mod env;
pub mod error;
pub mod import;
pub mod import_file;
pub mod manifest;
pub mod output;
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

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::Cli;
pub use crate::error::ExitStatus;
use crate::output::Printer;
use crate::settings::{Environment, Settings};

/// Runs cognito-sync with these arguments (the first is the program name).
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitStatus {
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
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = format!("error: {diagnostic}\n");
    }
    out
}
