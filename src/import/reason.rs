//! Cognito's per-row reasons, made safe to print. Pure.
//!
//! The documented reasons name the row by its line number and hold no user data \[CWL\], but
//! whether a FAILED reason can quote the row's value is undocumented (the conformance kit's
//! `failed_reason_wording` probe: e.g. `... Value: <the value>`). `apply` and `jobs` print
//! reasons into CI logs and PR comments, so no value may pass through them:
//!
//! - [`sanitize`] (every log line, `apply` and `jobs`): control characters become spaces;
//!   whatever follows a `Value:` / `value=` marker is withheld; quoted spans are withheld
//!   unless they hold an attribute name (`email`, `custom:…`, `cognito:…`); anything shaped
//!   like an email address or a long number is withheld; the result is at most
//!   [`MAX_REASON_CHARS`] characters.
//! - [`redact_values`] (`apply`, which knows the row it uploaded): each of the row's own
//!   values that still appears, as a whole word, is withheld too.
//!
//! Both keep the useful part, Cognito's sentence naming the column and the rule.

use std::sync::LazyLock;

use regex::Regex;

use crate::manifest::standard_attribute_by_column;

/// What replaces a withheld value.
pub const WITHHELD: &str = "<withheld>";

/// The longest reason printed, in characters.
pub const MAX_REASON_CHARS: usize = 240;

/// `reason`, without anything that may be a user's value; see the module doc.
pub fn sanitize(reason: &str) -> String {
    static VALUE_MARKER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bvalues?\s*[:=]").expect("valid regex"));
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#""[^"]*"|“[^”]*”|‘[^’]*’|`[^`]*`|(?:^|[\s(\[{:=,])'[^']*'"#).expect("valid regex")
    });
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^\s@]+@[^\s@]+").expect("valid regex"));
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\+?\d[\d\s()./-]{5,}\d").expect("valid regex"));

    let mut text: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if let Some(marker) = VALUE_MARKER.find(&text) {
        text = format!("{} {WITHHELD}", &text[..marker.end()]);
    }
    let text = QUOTED.replace_all(&text, |caps: &regex::Captures<'_>| {
        let span = &caps[0];
        // A single-quoted span starts after the character that opened it.
        let (lead, span) = match span.find('\'') {
            Some(i) if !span.starts_with(['"', '“', '‘', '`']) => span.split_at(i),
            _ => ("", span),
        };
        let open = span.chars().next().unwrap_or('"');
        let close = span.chars().last().unwrap_or('"');
        let inner = &span[open.len_utf8()..span.len() - close.len_utf8()];
        if is_attribute_name(inner) { format!("{lead}{span}") } else { format!("{lead}{open}{WITHHELD}{close}") }
    });
    let text = EMAIL.replace_all(&text, WITHHELD);
    let text = NUMBER.replace_all(&text, WITHHELD);
    bound(text.trim())
}

/// `reason` with each of `values` (a row's cells) withheld where it appears as a whole word.
/// Values shorter than 3 characters and booleans are left: they cannot be told from words.
pub fn redact_values<'a>(reason: &str, values: impl IntoIterator<Item = &'a str>) -> String {
    let mut values: Vec<&str> = values
        .into_iter()
        .filter(|v| v.chars().count() >= 3 && !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false"))
        .collect();
    // Longest first, so that a value holding another is withheld whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut text = reason.to_owned();
    for value in values {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(value) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + value.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
            if word(before) || word(after) {
                let step = at + rest[at..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..step]);
                rest = &rest[step..];
            } else {
                out.push_str(&rest[..at]);
                out.push_str(WITHHELD);
                rest = &rest[at + value.len()..];
            }
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// A name Cognito's reasons may quote: a standard column, or a custom or `cognito:` one.
fn is_attribute_name(text: &str) -> bool {
    standard_attribute_by_column(text).is_some()
        || ["custom:", "cognito:", "dev:"].iter().any(|prefix| {
            text.strip_prefix(prefix).is_some_and(|name| {
                !name.is_empty() && name.len() <= 20 && name.chars().all(|c| c.is_alphanumeric() || "_-".contains(c))
            })
        })
}

fn bound(text: &str) -> String {
    match text.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_reasons_are_unchanged() {
        for reason in [
            "The user already exists.",
            "The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).",
            "The value of email is not a valid email address.",
            "The row has 3 values but the header has 20 columns.",
            "An internal error occurred while importing this user.",
        ] {
            assert_eq!(sanitize(reason), reason);
        }
    }

    #[test]
    fn a_value_after_a_marker_is_withheld() {
        assert_eq!(
            sanitize("The value of custom:score is not a number. Value: Alice Smith, 12 Main St"),
            "The value of custom:score is not a number. Value: <withheld>"
        );
        assert_eq!(sanitize("invalid value=secret"), "invalid value= <withheld>");
    }

    #[test]
    fn quoted_values_are_withheld_and_quoted_names_kept() {
        assert_eq!(
            sanitize(r#"Attribute 'email' has an invalid value "bob@x" for 'custom:team': `Ann` ‘Ann’ “Ann”"#),
            "Attribute 'email' has an invalid value \"<withheld>\" for 'custom:team': `<withheld>` ‘<withheld>’ “<withheld>”"
        );
        // An apostrophe inside a word is not a quote.
        assert_eq!(sanitize("The user's row isn't valid."), "The user's row isn't valid.");
    }

    #[test]
    fn emails_and_long_numbers_are_withheld_anywhere() {
        assert_eq!(sanitize("alice@example.com is taken; +1 555 0100 999 too"), "<withheld> is taken; <withheld> too");
        assert_eq!(sanitize("born 02/01/1985"), "born <withheld>");
    }

    #[test]
    fn control_characters_go_and_the_length_is_bounded() {
        assert_eq!(sanitize("bad\u{1b}[31m row"), "bad [31m row");
        let long = sanitize(&"x ".repeat(1000));
        assert_eq!(long.chars().count(), MAX_REASON_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_rows_values_are_withheld_as_whole_words() {
        assert_eq!(
            redact_values("Ann Lee has eng and engineering; Annex", ["Ann", "eng", "true", "Lee"]),
            "<withheld> <withheld> has <withheld> and engineering; Annex"
        );
        assert_eq!(redact_values("Ann Lee", ["Ann Lee", "Ann"]), "<withheld>");
    }
}
