//! `cognito:mfa_enabled` read back after the import (the conformance kit's `mfa_enabled_true`
//! probe). Pure.
//!
//! Whether a row's `cognito:mfa_enabled` `true` enables an MFA method for the imported user
//! is undocumented (\[CSV\] only says which values a pool accepts). The plan does not read
//! users' MFA state, so `apply` checks it once, right after the import: each user whose row
//! said `true` is read back (AdminGetUser: `UserMFASettingList`, `MFAOptions`) when the
//! pool's MFA is optional, and one with no MFA method enabled gets the verdict
//! `mfa_not_enabled` (exit 1, with the command that enables it). In a pool whose MFA is on,
//! Cognito makes every user set MFA up at sign-in whatever the import did, so nothing is read;
//! in a pool whose MFA is off, `mfa_enabled: true` is refused at `plan`.

use std::collections::BTreeSet;

use crate::manifest::MFA_COLUMN;
use crate::settings::shell_quote;

use super::Part;

/// The users whose row in an import file sets `cognito:mfa_enabled` to `true`.
pub fn declared(parts: &[Part]) -> BTreeSet<String> {
    let mut users = BTreeSet::new();
    for part in parts {
        let text = String::from_utf8_lossy(&part.file.bytes);
        let mut lines = text.lines();
        // Header cells never hold a comma (`import_file::unwritable_header_cell`).
        let Some(column) = lines.next().and_then(|header| header.split(',').position(|c| c == MFA_COLUMN)) else {
            continue;
        };
        for (line, username) in lines.zip(&part.file.usernames) {
            if cells(line).nth(column).is_some_and(|cell| cell == "true") {
                users.insert(username.clone());
            }
        }
    }
    users
}

/// A row's cells, split at every comma not written `\,` (the dialect's one escape).
fn cells(line: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut previous = '\0';
    let mut bounds = Vec::new();
    for (at, c) in line.char_indices() {
        if c == ',' && previous != '\\' {
            bounds.push((start, at));
            start = at + 1;
        }
        previous = c;
    }
    bounds.push((start, line.len()));
    bounds.into_iter().map(move |(from, to)| &line[from..to])
}

/// What to tell about a user imported without the MFA its row declared, and what to do.
pub fn reason(pool_id: &str, username: &str) -> String {
    format!(
        "the manifest declares `mfa_enabled: true`, but Cognito enabled no MFA method for it; enable SMS MFA with `aws cognito-idp admin-set-user-mfa-preference --user-pool-id {} --username {} --sms-mfa-settings Enabled=true,PreferredMfa=true`",
        shell_quote(pool_id),
        shell_quote(username)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import_file::ImportFile;

    #[test]
    fn the_users_whose_row_says_true() {
        let file = ImportFile {
            bytes: b"name,cognito:mfa_enabled,cognito:username\nSmith\\, Ann,true,ann\nBob,false,bob\n,true,cy\n"
                .to_vec(),
            usernames: vec!["ann".into(), "bob".into(), "cy".into()],
            algorithm: None,
        };
        let parts = [Part { file, hash_algorithm: None }];
        assert_eq!(declared(&parts), ["ann".to_owned(), "cy".to_owned()].into());
    }

    #[test]
    fn the_reason_gives_a_command_that_pastes() {
        assert!(reason("us-east-1_X", "o'neil").contains("--user-pool-id us-east-1_X --username 'o'\\''neil' --sms"));
    }
}
