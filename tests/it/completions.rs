//! Shell completions and the man page, generated from the CLI definition.

use crate::common::{Run, cognito_sync};

fn run(args: &[&str]) -> Run {
    cognito_sync().args(args).output().unwrap().into()
}

#[test]
fn bash_zsh_and_fish_completions_know_the_commands() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    assert!(bash.stdout.starts_with("_cognito__sync() {"), "a completion function");
    assert!(bash.stdout.contains("-F _cognito__sync"), "registered for the binary");
    for command in ["apply", "plan", "export", "jobs", "--detailed-exitcode"] {
        assert!(bash.stdout.contains(command), "bash: {command}");
    }
    let zsh = run(&["completions", "zsh"]);
    assert_eq!(zsh.code, 0);
    assert!(zsh.stdout.starts_with("#compdef cognito-sync"), "{}", &zsh.stdout[..40]);
    assert!(zsh.stdout.contains("apply"));
    let fish = run(&["completions", "fish"]);
    assert_eq!(fish.code, 0);
    assert!(fish.stdout.contains("complete -c cognito-sync"), "{}", &fish.stdout[..200]);
    assert!(fish.stdout.contains("-a \"apply\""), "fish knows apply");

    let unknown = run(&["completions", "tcsh"]);
    assert_eq!(unknown.code, 1, "a usage error exits 1");
}

#[test]
fn the_man_page_is_roff_with_the_exit_status() {
    let man = run(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains("\n.TH cognito-sync 1 "), "{}", &man.stdout[..200]);
    assert!(man.stdout.contains(".SH \"EXIT STATUS\""));
    assert!(man.stdout.contains("\\fB2\\fR\nonly with `plan \\-\\-detailed\\-exitcode`"));
    for section in ["PLAN", "APPLY", "EXPORT", "JOBS", "COMPLETIONS"] {
        assert!(man.stdout.contains(&format!(".SH \"COGNITO-SYNC {section}\"")), "{section}");
    }
}
