//! All terminal output goes through here: data on stdout, everything else on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod color;
pub mod progress;

use std::fmt::Display;
use std::io::Write;

pub use color::{Paint, Role};

use crate::settings::{Settings, Verbosity};

/// Writes to stdout and stderr according to the resolved settings.
#[derive(Debug, Clone)]
pub struct Printer {
    pub stdout_paint: Paint,
    pub stderr_paint: Paint,
    pub verbosity: Verbosity,
}

impl Printer {
    pub fn new(settings: &Settings) -> Self {
        Printer {
            stdout_paint: Paint::new(settings.color_stdout),
            stderr_paint: Paint::new(settings.color_stderr),
            verbosity: settings.verbosity,
        }
    }

    /// Writes data to stdout. A reader that went away (`| head`) is not an error: the rest
    /// of the output is dropped and the command goes on, and ends with its own status, as
    /// other Unix filters do (ripgrep does the same).
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(error) if is_broken_pipe(&error) => Ok(()),
            other => other,
        }
    }

    /// Data on stdout written by `write` as it goes (buffered), for large outputs; a closed
    /// pipe ends it quietly, as in [`Self::data`].
    pub fn data_with(&self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        match write(&mut out).and_then(|()| out.flush()) {
            Err(error) if is_broken_pipe(&error) => Ok(()),
            other => other,
        }
    }

    /// A status message on stderr, hidden by `--quiet`.
    pub fn status(&self, text: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{text}");
        }
    }

    /// Detail shown only with `--verbose`.
    pub fn detail(&self, text: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            eprintln!("{}", self.stderr_paint.paint(Role::Dim, &text.to_string()));
        }
    }

    /// A warning on stderr; shown even with `--quiet`.
    pub fn warn(&self, text: impl Display) {
        eprintln!("{}: {text}", self.stderr_paint.paint(Role::Warning, "warning"));
    }

    /// A rendered error report on stderr.
    pub fn error_report(&self, rendered: &str) {
        eprint!("{rendered}");
    }
}

/// `n` and its noun: `1 user`, `2 users`.
pub fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    match n.into() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// Whether an I/O error means the reader of stdout went away.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}
