//! One module per subcommand; each returns the exit status or an error to report.

mod plan;
mod role;
mod schema;
mod validate;

use crate::cli::Command;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::settings::Settings;

pub fn run(command: Command, settings: &Settings, printer: &Printer) -> miette::Result<ExitStatus> {
    match command {
        Command::Validate(args) => validate::run(&args, settings, printer),
        Command::Schema => schema::run(printer),
        Command::Plan(args) => plan::run(&args, settings, printer),
        Command::Role(args) => role::run(&args, settings, printer),
    }
}

/// Runs a future to completion on a current-thread runtime: commands are synchronous, and
/// only their AWS calls are async.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can be built")
        .block_on(future)
}
