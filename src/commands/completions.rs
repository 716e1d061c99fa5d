//! `completions` and `man`: shell completion scripts and the man page, generated from the
//! clap definition in `cli.rs`, so that they never drift from the real command line.

use clap::CommandFactory;
use miette::IntoDiagnostic;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{EXIT_STATUS_HELP, ExitStatus};
use crate::output::Printer;

const BIN: &str = "cognito-sync";

pub fn completions(args: &CompletionsArgs, printer: &Printer) -> miette::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN, &mut script);
    printer.data(&String::from_utf8_lossy(&script)).into_diagnostic()?;
    Ok(ExitStatus::Success)
}

pub fn man(printer: &Printer) -> miette::Result<ExitStatus> {
    printer.data(&man_page().into_diagnostic()?).into_diagnostic()?;
    Ok(ExitStatus::Success)
}

/// The man page: clap_mangen's sections for the top-level command, then one section per
/// subcommand with its long description and options, then EXIT STATUS and ENVIRONMENT.
/// clap_mangen would print the exit status (the top-level `after_help`) as "EXTRA"; it is
/// written as a proper EXIT STATUS section instead.
fn man_page() -> std::io::Result<String> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone()).manual("cognito-sync manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    let mut text = String::from_utf8_lossy(&out).into_owned();

    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        text.push_str(&format!(".SH \"{} {}\"\n", BIN.to_uppercase(), sub.get_name().to_uppercase()));
        let mut usage = sub.clone().bin_name(format!("{BIN} {}", sub.get_name()));
        text.push_str(&format!(".nf\n{}\n.fi\n", roff_escape(&usage.render_usage().to_string())));
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            for paragraph in about.to_string().split("\n\n") {
                text.push_str(&format!(".PP\n{}\n", roff_escape(&paragraph.replace('\n', " "))));
            }
        }
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && !a.is_global_set()) {
            let value = arg
                .get_value_names()
                .and_then(|n| n.first())
                .map_or_else(|| arg.get_id().to_string().to_uppercase(), |n| n.to_string());
            let takes_value = arg.get_action().takes_values();
            let name = match (arg.get_short(), arg.get_long()) {
                (Some(short), Some(long)) if takes_value => format!("-{short}, --{long} <{value}>"),
                (None, Some(long)) if takes_value => format!("--{long} <{value}>"),
                (Some(short), Some(long)) => format!("-{short}, --{long}"),
                (None, Some(long)) => format!("--{long}"),
                (Some(short), None) => format!("-{short}"),
                (None, None) => format!("[{value}]"),
            };
            let help = arg.get_long_help().or_else(|| arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
            text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff_escape(&name), roff_escape(&help.replace('\n', " "))));
        }
    }

    text.push_str(".SH \"EXIT STATUS\"\n");
    for line in EXIT_STATUS_HELP.lines().skip(1) {
        let line = line.trim();
        if let Some((code, meaning)) = line.split_once(char::is_whitespace) {
            text.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(meaning.trim())));
        }
    }
    text.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in [
        (crate::env::POOL_ID, "the user pool id, like `--pool-id`"),
        (crate::env::NO_PROGRESS, "hide progress on stderr"),
        (crate::env::NO_COLOR, "no colour (with `--color auto`)"),
        ("AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL", "read by the AWS SDK's standard chain, as in the AWS CLI"),
    ] {
        text.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff_escape(name), roff_escape(meaning)));
    }
    let mut version = Vec::new();
    man.render_version_section(&mut version)?;
    text.push_str(&String::from_utf8_lossy(&version));
    // Each section rendered alone repeats roff's quote-string preamble; once is enough.
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    if let Some(first) = text.find(PREAMBLE) {
        let rest = text.split_off(first + PREAMBLE.len()).replace(PREAMBLE, "");
        text.push_str(&rest);
    }
    Ok(text)
}

/// Escapes text for roff: backslashes, hyphens (so that options copy as ASCII), and a `.`
/// or `'` at the start of a line, which roff would read as a request.
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') { format!("\\&{escaped}") } else { escaped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_has_every_command_and_the_exit_status() {
        let page = man_page().unwrap();
        assert!(page.contains("\n.TH cognito-sync 1 "), "{}", &page[..200]);
        for section in [".SH \"EXIT STATUS\"", ".SH \"COGNITO-SYNC EXPORT\"", ".SH \"COGNITO-SYNC JOBS\""] {
            assert!(page.contains(section), "{section} missing");
        }
        assert!(page.contains("\\-\\-detailed\\-exitcode"));
    }

    #[test]
    fn roff_escaping() {
        assert_eq!(roff_escape(".hidden --flag \\"), "\\&.hidden \\-\\-flag \\e");
    }
}
