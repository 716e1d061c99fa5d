//! The palette, by meaning. Colour is decoration only: every line also carries a textual
//! marker (`+`, `~`, `=`) so that it reads the same without colour.

use owo_colors::OwoColorize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A user to create.
    Create,
    /// A user that drifted.
    Drift,
    /// Errors and failed users.
    Error,
    Warning,
    /// Names, ids and paths.
    Name,
    /// Hints and secondary text.
    Dim,
    /// Headings and totals.
    Strong,
}

/// Applies colour when it was decided on; otherwise returns the text as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    pub enabled: bool,
}

impl Paint {
    pub fn new(enabled: bool) -> Self {
        Paint { enabled }
    }

    pub fn paint(&self, role: Role, text: &str) -> String {
        if !self.enabled {
            return text.to_owned();
        }
        match role {
            Role::Create => text.green().to_string(),
            Role::Drift => text.yellow().to_string(),
            Role::Error => text.red().bold().to_string(),
            Role::Warning => text.yellow().bold().to_string(),
            Role::Name => text.cyan().to_string(),
            Role::Dim => text.dimmed().to_string(),
            Role::Strong => text.bold().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_colour_means_plain_text() {
        assert_eq!(Paint::new(false).paint(Role::Create, "+ alice"), "+ alice");
        assert_ne!(Paint::new(true).paint(Role::Create, "+ alice"), "+ alice");
    }
}
