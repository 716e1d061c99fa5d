//! Masking of personal data in plans: shown to reviewers of a pull request by default, so
//! that a plan comment or a CI log does not publish users' addresses and phone numbers.
//! `--show-pii` shows values as they are.

/// Attributes that hold personal data. Flags (`email_verified`), `locale`, `zoneinfo`,
/// `updated_at` and custom attributes are not masked; usernames never are (a plan must say
/// whom it imports).
const PERSONAL: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "address",
    "birthdate",
    "gender",
    "picture",
    "profile",
    "website",
];

/// Whether masking applies to values of this attribute.
pub fn is_personal(attribute: &str) -> bool {
    PERSONAL.contains(&attribute)
}

/// The value as a plan shows it: masked when `show` is false and the attribute is personal.
pub fn shown(attribute: &str, value: &str, show: bool) -> String {
    if show || !is_personal(attribute) { value.to_owned() } else { mask(attribute, value) }
}

/// `alice@example.com` → `a***@example.com`; `+15555550100` → `+1******0100`; other
/// personal text keeps its first character: `Alice` → `A***`.
pub fn mask(attribute: &str, value: &str) -> String {
    match attribute {
        "email" => match value.rsplit_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", first_char(local)),
            None => "***".to_owned(),
        },
        "phone_number" => {
            let chars: Vec<char> = value.chars().collect();
            if chars.len() <= 6 {
                return "*".repeat(chars.len());
            }
            let head: String = chars[..2].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
        }
        "birthdate" => "****-**-**".to_owned(),
        _ => format!("{}***", first_char(value)),
    }
}

fn first_char(text: &str) -> String {
    text.chars().next().map(String::from).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_the_spec_shows() {
        assert_eq!(mask("email", "alice@example.com"), "a***@example.com");
        assert_eq!(mask("phone_number", "+15555550100"), "+1******0100");
        assert_eq!(mask("given_name", "Ålice"), "Å***");
        assert_eq!(mask("birthdate", "1985-02-01"), "****-**-**");
        assert_eq!(mask("phone_number", "+1234"), "*****");
    }

    #[test]
    fn only_personal_attributes_are_masked() {
        assert_eq!(shown("email", "alice@example.com", false), "a***@example.com");
        assert_eq!(shown("email", "alice@example.com", true), "alice@example.com");
        assert_eq!(shown("email_verified", "true", false), "true");
        assert_eq!(shown("custom:department", "engineering", false), "engineering");
        assert_eq!(shown("locale", "en-GB", false), "en-GB");
    }
}
