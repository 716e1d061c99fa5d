use miette::IntoDiagnostic;

use crate::error::ExitStatus;
use crate::output::Printer;

pub fn run(printer: &Printer) -> miette::Result<ExitStatus> {
    printer.data(&crate::schema::manifest_schema()).into_diagnostic()?;
    Ok(ExitStatus::Success)
}
