//! Resolved settings: the command line and the environment turned into decisions, once.
//! No network here.

use std::io::IsTerminal;

use crate::cli::{ColorChoice, GlobalArgs};

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where AWS requests go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub pool_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Colour on stdout.
    pub color_stdout: bool,
    /// Colour on stderr (diagnostics, progress).
    pub color_stderr: bool,
    pub verbosity: Verbosity,
    /// Whether to show progress bars and periodic progress lines.
    pub progress: bool,
    /// Whether stderr is a terminal (a bar rather than plain lines).
    pub stderr_is_terminal: bool,
    /// Whether stdin is a terminal (a confirmation prompt is possible).
    pub stdin_is_terminal: bool,
    pub aws: AwsTarget,
    /// The global AWS flags given on the command line, as typed (`--region` and its value),
    /// so that a command suggested in a hint works when pasted.
    pub aws_flags: Vec<String>,
    /// The subcommand being run (`plan`), for hints that suggest running it again.
    pub command: &'static str,
    /// The endpoint that replaces AWS's, from `--endpoint-url` or `AWS_ENDPOINT_URL` (e.g. a
    /// local emulator): links to the AWS console would not show what it holds.
    pub custom_endpoint: Option<String>,
    /// How fast to call Cognito (`--max-rps`, `--quota-share`).
    pub pace: crate::pace::Policy,
}

/// What the environment says about colour, read once so that tests can set it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub no_color: bool,
    pub force_color: bool,
    pub term_dumb: bool,
    pub no_progress: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub stdin_is_terminal: bool,
    /// `AWS_ENDPOINT_URL`, which the AWS SDK reads itself.
    pub aws_endpoint_url: Option<String>,
}

impl Environment {
    pub fn current() -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        Environment {
            no_color: set(crate::env::NO_COLOR),
            force_color: set(crate::env::FORCE_COLOR)
                || std::env::var_os(crate::env::CLICOLOR_FORCE).is_some_and(|v| !v.is_empty() && v != "0"),
            term_dumb: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
            no_progress: set(crate::env::NO_PROGRESS),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            aws_endpoint_url: std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()),
        }
    }
}

impl Settings {
    pub fn resolve(args: &GlobalArgs, env: &Environment) -> Self {
        let color = |is_terminal: bool| match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if env.no_color => false,
            ColorChoice::Auto if env.force_color => true,
            ColorChoice::Auto => is_terminal && !env.term_dumb,
        };
        let verbosity = match (args.quiet, args.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, _) => Verbosity::Verbose,
        };
        Settings {
            color_stdout: color(env.stdout_is_terminal),
            color_stderr: color(env.stderr_is_terminal),
            verbosity,
            progress: verbosity == Verbosity::Normal && !env.no_progress,
            stderr_is_terminal: env.stderr_is_terminal,
            stdin_is_terminal: env.stdin_is_terminal,
            aws_flags: [
                ("--profile", &args.profile),
                ("--region", &args.region),
                ("--endpoint-url", &args.endpoint_url),
                ("--pool-id", &args.pool_id),
            ]
            .into_iter()
            .filter_map(|(flag, value)| value.as_ref().filter(|v| !v.is_empty()).map(|v| (flag, v)))
            .flat_map(|(flag, value)| [flag.to_owned(), value.clone()])
            .collect(),
            command: "",
            custom_endpoint: args
                .endpoint_url
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| env.aws_endpoint_url.clone()),
            aws: AwsTarget {
                profile: args.profile.clone(),
                region: args.region.clone(),
                endpoint_url: args.endpoint_url.clone().filter(|u| !u.is_empty()),
                pool_id: args.pool_id.clone().filter(|p| !p.is_empty()),
            },
            pace: crate::pace::Policy::new(args.quota_share.map(f64::from), &args.max_rps),
        }
    }
}

impl Settings {
    /// The AWS console's link to an import job's log stream; none when requests go to
    /// another endpoint than AWS's (an emulator), where the link would show nothing.
    pub fn log_console_url(&self, region: &str, group: &str, stream: &str) -> Option<String> {
        match self.custom_endpoint {
            Some(_) => None,
            None => Some(crate::import::log_console_url(region, group, stream)),
        }
    }

    /// A `cognito-sync` command line to suggest in a hint: `words` (the subcommand, its
    /// paths and flags), then the AWS flags this run was given, each quoted for a POSIX
    /// shell when needed, so that it runs as it is when pasted.
    pub fn suggest<S: AsRef<std::ffi::OsStr>>(&self, words: impl IntoIterator<Item = S>) -> String {
        let mut line = String::from("cognito-sync");
        let words: Vec<String> = words.into_iter().map(|w| w.as_ref().to_string_lossy().into_owned()).collect();
        // A flag the words already carry (e.g. `--pool-id`) is not repeated.
        let given = |flag: &str| words.iter().any(|w| w == flag);
        let extra = self.aws_flags.chunks(2).filter(|pair| !given(&pair[0])).flatten();
        for word in words.iter().chain(extra) {
            line.push(' ');
            line.push_str(&shell_quote(word));
        }
        line
    }
}

/// `word` as one POSIX shell word: unchanged when it is plain, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '@' | '%' | '+' | ',')
        });
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn settings(args: &[&str], env: Environment) -> Settings {
        let cli =
            Cli::try_parse_from(std::iter::once("cognito-sync").chain(args.iter().copied()).chain(["schema"])).unwrap();
        Settings::resolve(&cli.global, &env)
    }

    #[test]
    fn colour_resolves_in_order() {
        let tty = Environment { stdout_is_terminal: true, stderr_is_terminal: true, ..Default::default() };
        assert!(settings(&[], tty.clone()).color_stdout);
        assert!(!settings(&[], Environment { no_color: true, ..tty.clone() }).color_stdout);
        assert!(settings(&["--color", "always"], Environment { no_color: true, ..tty.clone() }).color_stdout);
        assert!(!settings(&["--color", "never"], Environment { force_color: true, ..tty.clone() }).color_stderr);
        assert!(settings(&[], Environment { force_color: true, ..Default::default() }).color_stderr);
        assert!(!settings(&[], Environment { term_dumb: true, ..tty }).color_stdout);
        assert!(!settings(&[], Environment::default()).color_stdout);
    }

    #[test]
    fn suggested_commands_carry_the_aws_flags_and_quote_paths() {
        let plain = settings(&[], Environment::default());
        assert_eq!(plain.suggest(["role", "--create", "users2.yaml"]), "cognito-sync role --create users2.yaml");
        let flagged =
            settings(&["--endpoint-url", "http://127.0.0.1:4566", "--pool-id", "eu-west-1_A"], Environment::default());
        assert_eq!(
            flagged.suggest(["plan", "my users.yaml"]),
            "cognito-sync plan 'my users.yaml' --endpoint-url http://127.0.0.1:4566 --pool-id eu-west-1_A"
        );
        assert_eq!(
            flagged.suggest(["jobs", "--pool-id", "eu-west-1_B"]),
            "cognito-sync jobs --pool-id eu-west-1_B --endpoint-url http://127.0.0.1:4566"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn no_console_link_for_a_custom_endpoint() {
        let aws = settings(&[], Environment::default());
        assert!(
            aws.log_console_url("eu-west-1", "/aws/cognito/g", "s").unwrap().starts_with("https://eu-west-1.console")
        );
        assert_eq!(
            settings(&["--endpoint-url", "http://127.0.0.1:1"], Environment::default()).log_console_url(
                "eu-west-1",
                "g",
                "s"
            ),
            None
        );
        let env = Environment { aws_endpoint_url: Some("http://127.0.0.1:1".into()), ..Default::default() };
        assert_eq!(settings(&[], env).log_console_url("eu-west-1", "g", "s"), None);
    }

    #[test]
    fn quiet_hides_progress() {
        assert!(!settings(&["-q"], Environment::default()).progress);
        assert!(!settings(&["-v"], Environment::default()).progress);
        assert!(settings(&[], Environment::default()).progress);
        assert!(!settings(&[], Environment { no_progress: true, ..Default::default() }).progress);
    }
}
