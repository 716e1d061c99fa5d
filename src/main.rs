use std::process::ExitCode;

fn main() -> ExitCode {
    cognito_sync::run(std::env::args_os()).into()
}
