//! [`Attributes`]: one user's attribute values by Cognito name, compact: a declared user's,
//! and a pool user's as read (`pool::RemoteUser`).
//!
//! A manifest of a million users holds millions of attribute values, and a walk of a large
//! pool (or apply's read-back of every planned user) holds every user read, so a user's
//! attributes are not a map of owned strings: the sorted names are interned (the standard
//! columns are static, other names and lists of names are leaked once each, which the
//! input's size and the pool's schema bound), the values are one shared buffer, and a clone
//! (the plan keeps the new users' attributes, apply its planned users') shares that buffer
//! instead of copying it.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// Attribute values by Cognito name (`email`, `custom:department`), sorted by name, each
/// name at most once. Iterates like a `BTreeMap<String, String>`, in name order.
///
/// Layout: the sorted names are one interned slice (users declared alike share it); the
/// values are one shared buffer: each value's end offset (`u32`, little-endian), then the
/// values' UTF-8 text, back to back.
#[derive(Clone, PartialEq, Eq)]
pub struct Attributes {
    names: &'static [&'static str],
    values: Arc<[u8]>,
}

impl Default for Attributes {
    fn default() -> Self {
        Self { names: &[], values: Arc::from(Vec::new()) }
    }
}

/// The one `&'static str` for a name: a standard column, else a leaked copy shared by
/// every user that has it.
fn intern(name: &str) -> &'static str {
    if let Some(attribute) = super::standard_attribute_by_column(name) {
        return attribute.column;
    }
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The one `&'static` slice for a sorted list of interned names.
fn intern_names(names: Vec<&'static str>) -> &'static [&'static str] {
    if names.is_empty() {
        return &[];
    }
    static LISTS: OnceLock<Mutex<HashSet<&'static [&'static str]>>> = OnceLock::new();
    let mut lists = LISTS.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = lists.get(names.as_slice()) {
        return known;
    }
    let leaked: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    lists.insert(leaked);
    leaked
}

const END: usize = std::mem::size_of::<u32>();

impl Attributes {
    /// From (interned name, value) pairs sorted by name, each name once.
    fn from_sorted<V: AsRef<str>>(pairs: Vec<(&'static str, V)>) -> Self {
        let text: usize = pairs.iter().map(|(_, v)| v.as_ref().len()).sum();
        let mut values = Vec::with_capacity(pairs.len() * END + text);
        let mut end = 0usize;
        for (_, value) in &pairs {
            end += value.as_ref().len();
            // A manifest is at most 256 MiB: a user's values never reach 4 GiB.
            values.extend_from_slice(&u32::try_from(end).unwrap_or(u32::MAX).to_le_bytes());
        }
        for (_, value) in &pairs {
            values.extend_from_slice(value.as_ref().as_bytes());
        }
        Self { names: intern_names(pairs.into_iter().map(|(n, _)| n).collect()), values: Arc::from(values) }
    }

    fn end(&self, i: usize) -> usize {
        let at = i * END;
        self.values.get(at..at + END).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    /// The `i`th value, in name order.
    fn value(&self, i: usize) -> &str {
        let base = self.names.len() * END;
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let bytes = self.values.get(base + start..base + self.end(i)).unwrap_or_default();
        // Built from whole `&str` values, so always UTF-8.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.names.binary_search(&name).ok().map(|i| self.value(i))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.names.binary_search(&name).is_ok()
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.names.iter().copied()
    }

    /// The values, in name order.
    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.names.len()).map(|i| self.value(i))
    }

    /// (name, value) pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.names.iter().enumerate().map(|(i, n)| (*n, self.value(i)))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl From<BTreeMap<String, String>> for Attributes {
    fn from(map: BTreeMap<String, String>) -> Self {
        // Interning keeps the order: names compare as the strings they were.
        Self::from_sorted(map.into_iter().map(|(n, v)| (intern(&n), v)).collect())
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for Attributes {
    /// Collects pairs; a later value of a name replaces an earlier one, as in a map.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let map: BTreeMap<&'static str, String> =
            pairs.into_iter().map(|(n, v)| (intern(n.as_ref()), v.into())).collect();
        Self::from_sorted(map.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Attributes {
    /// As a map, like the `BTreeMap<String, String>` it replaces.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer).map(Self::from)
    }
}

/// Looking up one attribute value by name, in [`Attributes`] or a map read from a file or
/// from the pool.
pub trait AttributeLookup {
    fn attribute(&self, name: &str) -> Option<&str>;
}

impl AttributeLookup for Attributes {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

impl AttributeLookup for BTreeMap<String, String> {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map() {
        let a: Attributes = [("locale", "en"), ("custom:team", "x"), ("email", "a@example.com"), ("locale", "fr")]
            .into_iter()
            .collect();
        assert_eq!(a.len(), 3);
        assert_eq!(a.get("locale"), Some("fr"));
        assert_eq!(a.get("custom:team"), Some("x"));
        assert_eq!(a.get("custom:other"), None);
        assert_eq!(a.keys().collect::<Vec<_>>(), ["custom:team", "email", "locale"]);
        assert_eq!(a.values().collect::<Vec<_>>(), ["x", "a@example.com", "fr"]);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"custom:team":"x","email":"a@example.com","locale":"fr"}"#);
        let back: Attributes =
            serde_json::from_str(r#"{"locale":"fr","email":"a@example.com","custom:team":"x"}"#).unwrap();
        assert_eq!(back, a);
        assert!(std::ptr::eq(intern("custom:team"), intern(&String::from("custom:team"))));
        let empty = Attributes::default();
        assert_eq!((empty.len(), empty.get("email"), empty.iter().count()), (0, None, 0));
        let with_empty: Attributes = [("a", ""), ("b", "é"), ("c", "")].into_iter().collect();
        assert_eq!(with_empty.iter().collect::<Vec<_>>(), [("a", ""), ("b", "é"), ("c", "")]);
    }
}
