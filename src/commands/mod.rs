//! One module per subcommand; each returns the exit status or an error to report.

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
    }
}
