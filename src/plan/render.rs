//! The plan for people: Terraform-like text for a terminal or a CI log, and markdown for a
//! pull-request comment. Pure: both return a string.
//!
//! Every line carries a textual marker (`+`, `~`) and names in backticks, so the text reads
//! the same without colour; colour is decoration only.

use std::fmt::Write as _;

use super::mask::shown;
use super::{ONLY_CREATES, Plan};
use crate::output::{Paint, Role};
use crate::pool::{ReadStrategy, mfa_name};

/// GitHub cuts a comment at 65,535 characters; stay well under it, with room for the closing
/// lines.
pub const MARKDOWN_BUDGET: usize = 60_000;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub show_pii: bool,
    pub paint: Paint,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    crate::output::plural(n as u64, one, many)
}

/// The summary line's counts, e.g. `2 to import, 5 in sync, 1 drifted (not updated), 12
/// unmanaged (untouched)`.
pub fn summary(plan: &Plan) -> String {
    let unmanaged = if plan.unmanaged.exact {
        format!("{} unmanaged (untouched)", plan.unmanaged.count)
    } else {
        format!("about {} unmanaged (untouched)", plan.unmanaged.count)
    };
    let hashes = match &plan.password_hashes {
        Some(hashes) => {
            let with: usize = hashes.per_algorithm.values().sum();
            format!(" ({with} with a password hash, {} to reset)", plan.to_import.len() - with)
        }
        None => String::new(),
    };
    let mut line = format!(
        "{} to import{hashes}, {} to change, {} in sync, {} drifted (not updated), {unmanaged}",
        plan.to_import.len(),
        plan.to_change.len(),
        plan.in_sync.len(),
        plan.drifted.len()
    );
    if !plan.groups_to_create.is_empty() {
        let _ = write!(line, ", {}", plural(plan.groups_to_create.len(), "group to create", "groups to create"));
    }
    if plan.pool.memberships.is_some() {
        let _ = write!(
            line,
            ", {} (untouched)",
            plural(plan.unmanaged_memberships as usize, "unmanaged membership", "unmanaged memberships")
        );
    }
    line
}

/// A group's settings as CreateGroup gets them, e.g. `(precedence 1, description "Admins")`.
fn group_settings(group: &super::NewGroup) -> String {
    let mut parts = Vec::new();
    if let Some(description) = &group.description {
        parts.push(format!("description {description:?}"));
    }
    if let Some(precedence) = group.precedence {
        parts.push(format!("precedence {precedence}"));
    }
    if let Some(role_arn) = &group.role_arn {
        parts.push(format!("role_arn {role_arn:?}"));
    }
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

/// The lines of one existing user's change, without the leading marker and indent.
fn change_lines(user: &super::ChangedUser) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(enabled) = user.set_enabled {
        lines.push(format!("enabled = {} -> {enabled}", !enabled));
    }
    for group in &user.add_groups {
        lines.push(format!("+ group {group}"));
    }
    lines
}

fn pool_name_suffix(username: &str, pool_username: &str) -> String {
    if pool_username == username { String::new() } else { format!(" (pool username `{pool_username}`)") }
}

/// What a new user's password will be, when the plan has a hash file: the algorithm of its
/// hash (never the hash), or that it must reset.
fn password_line(plan: &Plan, user: &super::NewUser) -> Option<String> {
    plan.password_hashes.as_ref()?;
    Some(match user.password_hash {
        Some(algorithm) => format!("password hash: {algorithm} (imported CONFIRMED: signs in with the old password)"),
        None => "password hash: none (imported RESET_REQUIRED: must reset the password)".to_owned(),
    })
}

fn target(plan: &Plan) -> String {
    let mut text = format!("pool `{}` (`{}`) in `{}`", plan.pool.id, plan.pool.name, plan.pool.region);
    if let Some(endpoint) = &plan.pool.endpoint {
        let _ = write!(text, " at endpoint `{endpoint}`");
    }
    text
}

fn pool_facts(plan: &Plan) -> String {
    let pool = &plan.pool;
    let case = if pool.case_sensitive { "case-sensitive" } else { "case-insensitive" };
    let sign_in = if pool.username_attributes.is_empty() {
        "sign-in by username".to_owned()
    } else {
        format!("sign-in by {}", pool.username_attributes.join(" or "))
    };
    let verified = if pool.auto_verified.is_empty() { "none".to_owned() } else { pool.auto_verified.join(", ") };
    let read = match pool.read {
        ReadStrategy::ListAll => "read by listing them all",
        ReadStrategy::LookUp => "read by looking up each declared user",
    };
    format!(
        "{case} usernames, {sign_in}, MFA {}, auto-verified: {verified}; about {} in the pool ({read})",
        mfa_name(pool.mfa),
        plural(usize::try_from(pool.estimated_users).unwrap_or(usize::MAX), "user", "users")
    )
}

/// The plan as text, for a terminal or a CI log.
pub fn text(plan: &Plan, options: RenderOptions) -> String {
    let paint = options.paint;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", paint.paint(Role::Strong, "cognito-sync plan for"), target(plan));
    let _ = writeln!(out, "{}", paint.paint(Role::Dim, &pool_facts(plan)));
    for note in &plan.notes {
        let _ = writeln!(out, "{} {note}", paint.paint(Role::Warning, "note:"));
    }

    if !plan.groups_to_create.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint
                .paint(Role::Strong, &format!("{} to create:", plural(plan.groups_to_create.len(), "group", "groups")))
        );
        for group in &plan.groups_to_create {
            let _ = writeln!(
                out,
                "  {} group {}{}",
                paint.paint(Role::Create, "+"),
                paint.paint(Role::Create, &group.name),
                group_settings(group)
            );
        }
    }
    if !plan.to_import.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.paint(Role::Strong, &format!("{} to import:", plural(plan.to_import.len(), "user", "users")))
        );
        for user in &plan.to_import {
            let _ = writeln!(out, "  {} {}", paint.paint(Role::Create, "+"), paint.paint(Role::Create, &user.username));
            for (name, value) in &user.attributes {
                let _ = writeln!(out, "      {name} = {:?}", shown(name, value, options.show_pii));
            }
            let _ = writeln!(out, "      cognito:mfa_enabled = {}", user.mfa_enabled);
            if !user.enabled {
                let _ = writeln!(out, "      enabled = false (disabled right after its import)");
            }
            if !user.groups.is_empty() {
                let _ = writeln!(out, "      groups = [{}]", user.groups.join(", "));
            }
            if let Some(line) = password_line(plan, user) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if !plan.to_change.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.paint(Role::Strong, &format!("{} to change:", plural(plan.to_change.len(), "user", "users")))
        );
        for user in &plan.to_change {
            let _ = writeln!(
                out,
                "  {} {}{}",
                paint.paint(Role::Drift, "~"),
                paint.paint(Role::Drift, &user.username),
                pool_name_suffix(&user.username, &user.pool_username)
            );
            for line in change_lines(user) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if !plan.drifted.is_empty() {
        let _ = writeln!(
            out,
            "\n{} {}",
            paint.paint(
                Role::Strong,
                &format!("{} drifted (pool -> manifest):", plural(plan.drifted.len(), "user", "users"))
            ),
            paint.paint(Role::Dim, "an import job cannot update users; shown for information only")
        );
        for user in &plan.drifted {
            let pool_name = if user.pool_username == user.username {
                String::new()
            } else {
                format!(" (pool username `{}`)", user.pool_username)
            };
            let _ = writeln!(
                out,
                "  {} {}{pool_name}",
                paint.paint(Role::Drift, "~"),
                paint.paint(Role::Drift, &user.username)
            );
            for change in &user.changes {
                let before = match &change.pool {
                    Some(value) => format!("{:?}", shown(&change.attribute, value, options.show_pii)),
                    None => "(not set)".to_owned(),
                };
                let after = format!("{:?}", shown(&change.attribute, &change.manifest, options.show_pii));
                let masked_alike = before == after;
                let _ = write!(out, "      {} = {before} -> {after}", change.attribute);
                if masked_alike {
                    let _ = write!(out, " (differ; `--show-pii` shows them)");
                }
                out.push('\n');
            }
        }
    }

    if !plan.group_drift.is_empty() {
        let _ = writeln!(
            out,
            "\n{} {}",
            paint.paint(
                Role::Strong,
                &format!("{} drifted (pool -> manifest):", plural(plan.group_drift.len(), "group", "groups"))
            ),
            paint.paint(Role::Dim, "existing groups are never updated; shown for information only")
        );
        for group in &plan.group_drift {
            let _ =
                writeln!(out, "  {} group {}", paint.paint(Role::Drift, "~"), paint.paint(Role::Drift, &group.name));
            for change in &group.changes {
                let before = change.pool.as_ref().map_or("(not set)".to_owned(), |v| format!("{v:?}"));
                let _ = writeln!(out, "      {} = {before} -> {:?}", change.attribute, change.manifest);
            }
        }
    }

    out.push('\n');
    if plan.has_changes() {
        let _ = writeln!(out, "{} {}", paint.paint(Role::Strong, "Plan:"), summary(plan));
    } else {
        let _ = writeln!(out, "{} {}", paint.paint(Role::Strong, "No changes:"), summary(plan));
    }
    let _ = writeln!(out, "{}", paint.paint(Role::Dim, &format!("{ONLY_CREATES}.")));
    out
}

/// The longest run of backticks in `text`, to pick a code fence that `text` cannot close.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// The plan as markdown, for one pull-request comment: always under GitHub's 65,535
/// characters. Long sections are collapsed; past the budget, the rest is counted, not shown.
pub fn markdown(plan: &Plan, show_pii: bool) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### cognito-sync plan for {}\n", target(plan));
    if plan.has_changes() {
        let _ = writeln!(head, "**Plan:** {}\n", summary(plan));
    } else {
        let _ = writeln!(head, "**No changes:** {}\n", summary(plan));
    }
    let _ = writeln!(head, "> {ONLY_CREATES}.\n");
    let _ = writeln!(head, "<sub>{}</sub>\n", pool_facts(plan));
    for note in &plan.notes {
        let _ = writeln!(head, "> [!NOTE]\n> {note}\n");
    }

    // Each user is one block of lines; blocks go in while they fit.
    let import_blocks: Vec<String> = plan
        .to_import
        .iter()
        .map(|user| {
            let mut block = format!("+ {}\n", user.username);
            for (name, value) in &user.attributes {
                let _ = writeln!(block, "+     {name} = {:?}", shown(name, value, show_pii));
            }
            let _ = writeln!(block, "+     cognito:mfa_enabled = {}", user.mfa_enabled);
            if !user.enabled {
                let _ = writeln!(block, "+     enabled = false (disabled right after its import)");
            }
            if !user.groups.is_empty() {
                let _ = writeln!(block, "+     groups = [{}]", user.groups.join(", "));
            }
            if let Some(line) = password_line(plan, user) {
                let _ = writeln!(block, "+     {line}");
            }
            block
        })
        .collect();
    let group_blocks: Vec<String> = plan
        .groups_to_create
        .iter()
        .map(|group| format!("+ group {}{}\n", group.name, group_settings(group)))
        .collect();
    let change_blocks: Vec<String> = plan
        .to_change
        .iter()
        .map(|user| {
            let mut block = format!("~ {}{}\n", user.username, pool_name_suffix(&user.username, &user.pool_username));
            for line in change_lines(user) {
                match line.strip_prefix("+ ") {
                    Some(added) => writeln!(block, "+     {added}"),
                    None => writeln!(block, "!     {line}"),
                }
                .ok();
            }
            block
        })
        .collect();
    let group_drift_blocks: Vec<String> = plan
        .group_drift
        .iter()
        .map(|group| {
            let mut block = format!("~ group {}\n", group.name);
            for change in &group.changes {
                let before = change.pool.as_ref().map_or("(not set)".to_owned(), |v| format!("{v:?}"));
                let _ = writeln!(block, "!     {} = {before} -> {:?}", change.attribute, change.manifest);
            }
            block
        })
        .collect();
    let drift_blocks: Vec<String> = plan
        .drifted
        .iter()
        .map(|user| {
            let mut block = format!("~ {}\n", user.username);
            for change in &user.changes {
                let before = change
                    .pool
                    .as_ref()
                    .map_or("(not set)".to_owned(), |v| format!("{:?}", shown(&change.attribute, v, show_pii)));
                let _ = writeln!(
                    block,
                    "!     {} = {before} -> {:?}",
                    change.attribute,
                    shown(&change.attribute, &change.manifest, show_pii)
                );
            }
            block
        })
        .collect();

    let mut out = head;
    let mut budget = MARKDOWN_BUDGET.saturating_sub(out.len());
    let sections = [
        (format!("{} to create", plural(plan.groups_to_create.len(), "group", "groups")), "diff", group_blocks),
        (format!("{} to import", plural(plan.to_import.len(), "user", "users")), "diff", import_blocks),
        (format!("{} to change", plural(plan.to_change.len(), "user", "users")), "diff", change_blocks),
        (
            format!(
                "{} drifted (pool -> manifest; an import job cannot update users, shown for information only)",
                plural(plan.drifted.len(), "user", "users")
            ),
            "diff",
            drift_blocks,
        ),
        (
            format!(
                "{} drifted (pool -> manifest; existing groups are never updated, shown for information only)",
                plural(plan.group_drift.len(), "group", "groups")
            ),
            "diff",
            group_drift_blocks,
        ),
    ];
    for (title, language, blocks) in sections {
        if blocks.is_empty() {
            continue;
        }
        let fence = "`".repeat(blocks.iter().map(|b| longest_backtick_run(b)).max().unwrap_or(0).max(2) + 1);
        let collapsed = blocks.len() > 10;
        let mut section = String::new();
        if collapsed {
            let _ = writeln!(section, "<details><summary>{title}</summary>\n");
        } else {
            let _ = writeln!(section, "#### {title}\n");
        }
        let _ = writeln!(section, "{fence}{language}");
        let closing_room = 200 + fence.len();
        let mut shown_count = 0;
        for block in &blocks {
            if section.len() + block.len() + closing_room > budget {
                break;
            }
            section.push_str(block);
            shown_count += 1;
        }
        let _ = writeln!(section, "{fence}");
        if shown_count < blocks.len() {
            let _ = writeln!(
                section,
                "\n… and {} more not shown here (the comment would be too long); run `cognito-sync plan` to see them all",
                blocks.len() - shown_count
            );
        }
        if collapsed {
            let _ = writeln!(section, "\n</details>");
        }
        section.push('\n');
        budget = budget.saturating_sub(section.len());
        out.push_str(&section);
    }
    out
}
