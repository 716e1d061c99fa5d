//! The manifest: the users a pool should have, as declared in `users.yaml`.
//!
//! This module owns the serde + schemars types of manifest format v1 and nothing else:
//! reading a file lives in [`load`](mod@load), the checks that need no network in [`validate`](mod@validate).
//! The types here are the single source of the JSON Schema in `schemas/manifest.v1.json`.

mod attributes;
pub mod load;
mod problem;
mod source_map;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use attributes::{AttributeLookup, Attributes};
pub use load::{ManifestSource, load, parse};
pub use problem::{ManifestError, ManifestPath, Problem, SourceText};
pub use validate::{DeclaredUser, ValidManifest, validate};

/// The manifest format version this build reads and writes.
pub const MANIFEST_VERSION: u64 = 1;

/// The default manifest path, as in `terraform`'s working directory convention.
pub const DEFAULT_MANIFEST: &str = "users.yaml";

/// The default name of the one shared IAM role that Cognito uses to write import logs.
pub const DEFAULT_ROLE_NAME: &str = "cognito-sync-import";

// `U` is the type of one user entry: `UserSpec` for the schema and for writing, a raw YAML
// value while loading, so that one bad user does not hide the problems of the others.
/// The users an AWS Cognito user pool must have, for `cognito-sync`. Format version 1.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(bound(deserialize = "U: Deserialize<'de>", serialize = "U: Serialize"))]
#[schemars(title = "cognito-sync manifest", bound = "U: JsonSchema")]
pub struct Manifest<U = UserSpec> {
    /// Manifest format version; this build reads version 1.
    pub version: u64,
    /// The user pool that this manifest describes.
    pub pool: PoolSpec,
    /// How users are imported.
    #[serde(default, skip_serializing_if = "ImportSettings::is_default")]
    pub import: ImportSettings,
    /// The team's rules for new users.
    #[serde(default, skip_serializing_if = "Rules::is_default")]
    pub rules: Rules,
    /// Attribute values applied to every user that does not set them itself.
    #[serde(default, skip_serializing_if = "Defaults::is_empty")]
    pub defaults: Defaults,
    /// The groups the pool must have, by name. Missing ones are created; existing ones are
    /// never updated or deleted. A value may be left empty (`admins:`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Option<GroupSpec>>,
    /// The users that must exist in the pool.
    #[serde(default)]
    pub users: Vec<U>,
}

/// The target user pool.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// The user pool id, e.g. `us-east-1_AbCdEf123`. Its prefix is the region.
    pub id: String,
    /// The AWS region; only needed when it differs from the pool id's prefix (it never
    /// should for real pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Settings of the import job.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    /// The one shared, persistent IAM role that Cognito assumes to write the job's
    /// CloudWatch logs: a role name or a role ARN. Default: `cognito-sync-import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Add an `aws:SourceAccount` condition to the role's trust policy when creating it.
    /// AWS documents no such condition for Cognito imports: enable only once verified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scoped_trust: bool,
}

impl ImportSettings {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The role as written, or the default role name.
    pub fn role_or_default(&self) -> &str {
        self.role.as_deref().unwrap_or(DEFAULT_ROLE_NAME)
    }
}

/// One declared group's settings, used when the group is created (CreateGroup).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// The group's description (at most 2048 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The group's precedence: the lower, the more its role wins in tokens (0 or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i64>,
    /// The ARN of the IAM role that the group's members get in identity pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// The team's rules, enforced before import (Cognito itself does not enforce them).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A regular expression every NEW username must match. Users already in the pool are
    /// grandfathered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_pattern: Option<String>,
}

impl Rules {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `updated_at`: an RFC 3339 timestamp or Unix epoch seconds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Timestamp {
    /// Unix epoch seconds.
    Epoch(i64),
    /// An RFC 3339 timestamp such as `2024-05-01T12:00:00Z`.
    Rfc3339(String),
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timestamp::Epoch(seconds) => write!(f, "{seconds}"),
            Timestamp::Rfc3339(text) => f.write_str(text),
        }
    }
}

/// How the manifest's value of one standard attribute is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Text,
    Email,
    Phone,
    Bool,
    /// ISO `YYYY-MM-DD` in the manifest, `mm/dd/yyyy` in Cognito's CSV.
    Date,
    /// RFC 3339 or epoch in the manifest, epoch seconds in Cognito.
    Timestamp,
}

/// One declared value before it is checked, as the manifest typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue<'a> {
    Text(&'a str),
    Bool(bool),
    Timestamp(&'a Timestamp),
}

/// One standard attribute: its manifest field, its Cognito name (the CSV column) and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardAttribute {
    pub field: &'static str,
    pub column: &'static str,
    pub kind: AttrKind,
}

/// Defines [`Defaults`] and [`UserSpec`] from one list, so both always carry the same
/// attributes, and the table [`STANDARD_ATTRIBUTES`] that maps them to Cognito's names.
macro_rules! attribute_types {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty => $column:literal as $kind:ident ),* $(,)?) => {
        /// Attribute values applied to every user unless the user sets them.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Defaults {
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Custom attributes by name, without the `custom:` prefix.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub custom: BTreeMap<String, String>,
            /// Whether users are enabled (default true); `false` disables them.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            /// The groups every user belongs to, unless a user lists its own `groups`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub groups: Option<Vec<String>>,
        }

        /// One user that must exist in the pool.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct UserSpec {
            /// The username (Cognito's `cognito:username`).
            pub username: String,
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Custom attributes by name, without the `custom:` prefix; each becomes the
            /// column `custom:<name>` and must exist in the pool.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub custom: BTreeMap<String, String>,
            /// Whether the user is enabled (default: `defaults.enabled`, else true). `false`
            /// disables the user (never deletes it); `true` enables a disabled one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            /// The groups the user belongs to: each declared under `groups` or existing in the
            /// pool. Replaces `defaults.groups`. Memberships are added, never removed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub groups: Option<Vec<String>>,
        }

        /// Every standard attribute the manifest can set, in the order of Cognito's CSV header.
        pub const STANDARD_ATTRIBUTES: &[StandardAttribute] = &[
            $( StandardAttribute { field: stringify!($field), column: $column, kind: AttrKind::$kind }, )*
        ];

        impl Defaults {
            fn is_empty(&self) -> bool {
                *self == Self::default()
            }

            /// The standard attributes this entry sets, by manifest field name.
            pub fn standard_values(&self) -> Vec<(&'static StandardAttribute, RawValue<'_>)> {
                set_values([$( self.$field.as_ref().map(AsRawValue::as_raw), )*])
            }
        }

        impl UserSpec {
            /// The standard attributes this user sets, by manifest field name.
            pub fn standard_values(&self) -> Vec<(&'static StandardAttribute, RawValue<'_>)> {
                set_values([$( self.$field.as_ref().map(AsRawValue::as_raw), )*])
            }

            /// Sets one standard attribute from Cognito's text form; used by `export`.
            /// Returns false for a value that does not fit the field's type.
            pub fn set_from_cognito(&mut self, field: &str, value: &str) -> bool {
                match field {
                    $( stringify!($field) => match FromCognito::from_cognito(value) {
                        Some(parsed) => { self.$field = Some(parsed); true }
                        None => false,
                    }, )*
                    _ => false,
                }
            }
        }
    };
}

attribute_types! {
    /// Full name.
    name: String => "name" as Text,
    /// Given (first) name.
    given_name: String => "given_name" as Text,
    /// Family (last) name.
    family_name: String => "family_name" as Text,
    /// Middle name.
    middle_name: String => "middle_name" as Text,
    /// Nickname.
    nickname: String => "nickname" as Text,
    /// Preferred username (not the sign-in username).
    preferred_username: String => "preferred_username" as Text,
    /// Profile page URL.
    profile: String => "profile" as Text,
    /// Picture URL.
    picture: String => "picture" as Text,
    /// Web page URL.
    website: String => "website" as Text,
    /// Email address.
    email: String => "email" as Email,
    /// Whether the email address is verified.
    email_verified: bool => "email_verified" as Bool,
    /// Gender.
    gender: String => "gender" as Text,
    /// Birth date, `YYYY-MM-DD` (written to Cognito's CSV as `mm/dd/yyyy`).
    birthdate: String => "birthdate" as Date,
    /// Time zone, e.g. `Europe/Paris`.
    zoneinfo: String => "zoneinfo" as Text,
    /// Locale, e.g. `en-US`.
    locale: String => "locale" as Text,
    /// Phone number in E.164 form: `+` then digits, e.g. `'+15555550100'` (quote it in YAML).
    phone_number: String => "phone_number" as Phone,
    /// Whether the phone number is verified.
    phone_number_verified: bool => "phone_number_verified" as Bool,
    /// Postal address.
    address: String => "address" as Text,
    /// Last update time: RFC 3339 or Unix epoch seconds (written as epoch seconds).
    updated_at: Timestamp => "updated_at" as Timestamp,
    /// Whether MFA is enabled (Cognito's `cognito:mfa_enabled`); needs a phone number.
    mfa_enabled: bool => "cognito:mfa_enabled" as Bool,
}

/// The Cognito column of the username.
pub const USERNAME_COLUMN: &str = "cognito:username";
/// The Cognito column of the MFA flag.
pub const MFA_COLUMN: &str = "cognito:mfa_enabled";
/// The prefix of custom attribute columns.
pub const CUSTOM_PREFIX: &str = "custom:";

trait AsRawValue {
    fn as_raw(&self) -> RawValue<'_>;
}

impl AsRawValue for String {
    fn as_raw(&self) -> RawValue<'_> {
        RawValue::Text(self)
    }
}

impl AsRawValue for bool {
    fn as_raw(&self) -> RawValue<'_> {
        RawValue::Bool(*self)
    }
}

impl AsRawValue for Timestamp {
    fn as_raw(&self) -> RawValue<'_> {
        RawValue::Timestamp(self)
    }
}

/// Parses Cognito's stored text form of an attribute back into the manifest's type.
trait FromCognito: Sized {
    fn from_cognito(value: &str) -> Option<Self>;
}

impl FromCognito for String {
    fn from_cognito(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
}

impl FromCognito for bool {
    fn from_cognito(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl FromCognito for Timestamp {
    fn from_cognito(value: &str) -> Option<Self> {
        value.parse().ok().map(Timestamp::Epoch)
    }
}

/// Pairs the values a struct sets, in field order, with their rows of [`STANDARD_ATTRIBUTES`].
fn set_values<'a, const N: usize>(
    values: [Option<RawValue<'a>>; N],
) -> Vec<(&'static StandardAttribute, RawValue<'a>)> {
    debug_assert_eq!(N, STANDARD_ATTRIBUTES.len(), "one table row per field");
    STANDARD_ATTRIBUTES.iter().zip(values).filter_map(|(attribute, value)| Some((attribute, value?))).collect()
}

/// Looks up a standard attribute by its manifest field name.
pub fn standard_attribute(field: &str) -> Option<&'static StandardAttribute> {
    STANDARD_ATTRIBUTES.iter().find(|a| a.field == field)
}

/// Looks up a standard attribute by its Cognito name (CSV column).
pub fn standard_attribute_by_column(column: &str) -> Option<&'static StandardAttribute> {
    STANDARD_ATTRIBUTES.iter().find(|a| a.column == column)
}
