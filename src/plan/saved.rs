//! Saved plans (`plan -o PLAN.json`, `apply PLAN.json`): written and read here, and only
//! here, so that the fields `apply` acts on and the fields the digest covers cannot drift
//! apart.
//!
//! A saved plan is the plan's JSON report (see [`super::report`]) with personal data shown,
//! plus what `apply` needs to act without reading the manifest (SPEC §6 item 12): the role,
//! the trust setting and a slot for post-import changes. `plan_digest` covers every field
//! `apply` uses — pool (id, name, region), role, trust setting, the users to import (their
//! usernames and attributes), the CSV header, the rows and the post-import changes — so any
//! edit to one of them is refused before a single request is sent.
//!
//! Fields `apply` does not use (the manifest's path and digest, the summary, the drift...)
//! are informational and not covered.

use std::borrow::Cow;
use std::path::Path;

use crate::manifest::Attributes;

use miette::{Context, IntoDiagnostic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Plan;
use super::report::{SCHEMA_VERSION, report, to_json};

/// One change to make after the import (groups, enabled state: SPEC §8), as
/// [`crate::changes`] defines it.
pub use crate::changes::PostImportChange;

/// What the digest covers, in this order, as compact JSON (SHA-256, hex).
#[derive(Serialize)]
struct Covered<'a> {
    pool: CoveredPool<'a>,
    role: &'a str,
    scoped_trust: bool,
    users: Vec<CoveredUser<'a>>,
    csv_header: &'a [String],
    rows: &'a [&'a str],
    post_import: &'a [PostImportChange],
    /// SHA-256 of the password-hash file (SPEC §9); absent without one, so that plans
    /// without hashes keep their digest. It stands for the hashes, which no plan holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    password_hashes: Option<&'a str>,
}

#[derive(Serialize)]
struct CoveredPool<'a> {
    id: &'a str,
    name: &'a str,
    region: &'a str,
}

#[derive(Serialize)]
struct CoveredUser<'a> {
    username: &'a str,
    attributes: &'a Attributes,
}

/// The parts of a plan the digest covers, borrowed from a plan ([`Plan::digest_input`]) or
/// from a saved file ([`SavedPlan::digest_input`]): both are built only there, and a test
/// checks that a plan written and read back gives the same input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestInput<'a> {
    pub pool_id: &'a str,
    pub pool_name: &'a str,
    pub region: &'a str,
    pub role: &'a str,
    pub scoped_trust: bool,
    pub users: Vec<(&'a str, &'a Attributes)>,
    pub csv_header: &'a [String],
    pub rows: Vec<&'a str>,
    /// Computed from a fresh plan, borrowed from a saved one.
    pub post_import: Cow<'a, [PostImportChange]>,
    /// The password-hash file's digest, when the plan was made with one.
    pub password_hashes: Option<&'a str>,
}

/// The plan digest: SHA-256 (hex) of the canonical JSON of every field `apply` acts on.
pub fn digest(input: &DigestInput<'_>) -> String {
    let covered = Covered {
        pool: CoveredPool { id: input.pool_id, name: input.pool_name, region: input.region },
        role: input.role,
        scoped_trust: input.scoped_trust,
        users: input.users.iter().map(|(username, attributes)| CoveredUser { username, attributes }).collect(),
        csv_header: input.csv_header,
        rows: &input.rows,
        post_import: &input.post_import,
        password_hashes: input.password_hashes,
    };
    // The JSON is hashed as it is written: a plan of many users is not held twice.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    serde_json::to_writer(&mut hashing, &covered).expect("plain data serializes");
    format!("{:x}", hashing.0.finalize())
}

impl Plan {
    /// What the digest covers, from a fresh plan; `rows` are its [`Plan::rows`].
    pub fn digest_input<'a>(&'a self, rows: Vec<&'a str>) -> DigestInput<'a> {
        DigestInput {
            pool_id: &self.pool.id,
            pool_name: &self.pool.name,
            region: &self.pool.region,
            role: &self.role,
            scoped_trust: self.scoped_trust,
            users: self.to_import.iter().map(|u| (u.username.as_str(), &u.attributes)).collect(),
            csv_header: &self.csv_header,
            rows,
            post_import: Cow::Owned(crate::changes::Target::from_plan(self).to_post_import()),
            password_hashes: self.password_hashes.as_ref().map(|h| h.digest.as_str()),
        }
    }
}

/// The digest of a fresh plan; `rows` are its [`Plan::rows`].
pub fn plan_digest(plan: &Plan, rows: &[&str]) -> String {
    digest(&plan.digest_input(rows.to_vec()))
}

/// Writes the plan to `path` with mode 0600 (it holds personal data).
pub fn write(path: &Path, plan: &Plan) -> miette::Result<()> {
    let json = to_json(&report(plan, true));
    crate::import_file::write_private(path, json.as_bytes())
        .into_diagnostic()
        .wrap_err_with(|| format!("failed to write the plan to `{}`", path.display()))
}

/// A plan saved by `plan -o`, checked against its digest: what `apply PLAN.json` does.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedPlan {
    pub schema_version: u32,
    /// The manifest the plan was made from: informational (hints), never read by `apply`.
    pub manifest: SavedManifest,
    pub pool: SavedPool,
    pub role: String,
    pub scoped_trust: bool,
    pub to_import: Vec<SavedUser>,
    pub csv_header: Vec<String>,
    pub rows: Option<Vec<String>>,
    #[serde(default)]
    pub post_import: Vec<PostImportChange>,
    /// The password-hash file the plan was made with: path and digest, never a hash.
    #[serde(default)]
    pub password_hashes: Option<SavedHashes>,
    pub plan_digest: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedHashes {
    pub path: String,
    pub digest: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedManifest {
    pub path: String,
    pub digest: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedPool {
    pub id: String,
    pub name: String,
    pub region: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedUser {
    pub username: String,
    #[serde(default)]
    pub attributes: Attributes,
}

impl SavedPlan {
    /// Reads and checks a saved plan; offline. A file whose covered fields do not match its
    /// digest is refused.
    pub fn read(path: &Path) -> miette::Result<Self> {
        let text = std::fs::read_to_string(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read the saved plan `{}`", path.display()))?;
        Self::parse(&text, path)
    }

    pub(super) fn parse(text: &str, path: &Path) -> miette::Result<Self> {
        let changed = || {
            miette::miette!(
                help = "apply the plan as it was saved, or make a new one with `cognito-sync plan -o` and review it",
                "the saved plan `{}` was changed after it was made (its digest does not match)",
                path.display()
            )
        };
        let plan: SavedPlan = serde_json::from_str(text)
            .into_diagnostic()
            .wrap_err_with(|| format!("`{}` is not a plan saved by `cognito-sync plan -o`", path.display()))?;
        if plan.schema_version != SCHEMA_VERSION {
            miette::bail!(
                "the saved plan has schema version {}; this build reads version {SCHEMA_VERSION}",
                plan.schema_version
            );
        }
        let Some(rows) = &plan.rows else {
            miette::bail!(help = "save the plan with `cognito-sync plan -o PLAN.json`", "the saved plan has no rows");
        };
        if rows.len() != plan.to_import.len() {
            return Err(changed());
        }
        if digest(&plan.digest_input()) != plan.plan_digest {
            return Err(changed());
        }
        Ok(plan)
    }

    /// What the digest covers, from the fields as saved.
    pub fn digest_input(&self) -> DigestInput<'_> {
        DigestInput {
            pool_id: &self.pool.id,
            pool_name: &self.pool.name,
            region: &self.pool.region,
            role: &self.role,
            scoped_trust: self.scoped_trust,
            users: self.to_import.iter().map(|u| (u.username.as_str(), &u.attributes)).collect(),
            csv_header: &self.csv_header,
            rows: self.rows().iter().map(String::as_str).collect(),
            post_import: Cow::Borrowed(&self.post_import),
            password_hashes: self.password_hashes.as_ref().map(|h| h.digest.as_str()),
        }
    }

    pub fn rows(&self) -> &[String] {
        self.rows.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> serde_json::Value {
        let header = vec!["cognito:username".to_owned(), "email".to_owned()];
        let attributes: Attributes = [("email", "a@example.com")].into_iter().collect();
        let rows = ["alice,a@example.com"];
        let plan_digest = digest(&DigestInput {
            pool_id: "eu-west-1_X",
            pool_name: "pool",
            region: "eu-west-1",
            role: "cognito-sync-import",
            scoped_trust: false,
            users: vec![("alice", &attributes)],
            csv_header: &header,
            rows: rows.to_vec(),
            post_import: Cow::Borrowed(&[]),
            password_hashes: None,
        });
        serde_json::json!({
            "schema_version": 1,
            "manifest": {"path": "users.yaml", "digest": "x"},
            "pool": {"id": "eu-west-1_X", "name": "pool", "region": "eu-west-1"},
            "role": "cognito-sync-import",
            "scoped_trust": false,
            "to_import": [{"username": "alice", "attributes": {"email": "a@example.com"}}],
            "csv_header": header,
            "rows": rows,
            "post_import": [],
            "plan_digest": plan_digest,
        })
    }

    fn parse(value: &serde_json::Value) -> miette::Result<SavedPlan> {
        SavedPlan::parse(&value.to_string(), Path::new("plan.json"))
    }

    #[test]
    fn an_unchanged_plan_reads() {
        let plan = parse(&saved()).unwrap();
        assert_eq!(plan.role, "cognito-sync-import");
        assert_eq!(plan.rows(), ["alice,a@example.com"]);
    }

    #[test]
    fn every_covered_field_edited_is_refused() {
        let edits: [(&str, serde_json::Value); 10] = [
            ("/pool/id", "eu-west-1_Y".into()),
            ("/pool/name", "other".into()),
            ("/pool/region", "us-east-1".into()),
            ("/role", "arn:aws:iam::123456789012:role/other".into()),
            ("/scoped_trust", true.into()),
            ("/to_import/0/username", "mallory".into()),
            ("/to_import/0/attributes/email", "m@example.com".into()),
            ("/csv_header/1", "phone_number".into()),
            ("/rows/0", "mallory,a@example.com".into()),
            (
                "/post_import",
                serde_json::json!([{"kind": "user", "username": "alice", "new": true, "enabled": false, "groups": []}]),
            ),
        ];
        for (pointer, value) in edits {
            let mut plan = saved();
            *plan.pointer_mut(pointer).unwrap() = value;
            let error = parse(&plan).unwrap_err().to_string();
            assert!(error.contains("was changed after it was made"), "{pointer}: {error}");
        }
        // A row added or removed, even with the digest recomputed by hand, does not match
        // the users it is for.
        let mut plan = saved();
        plan["rows"].as_array_mut().unwrap().push("bob,b@example.com".into());
        assert!(parse(&plan).unwrap_err().to_string().contains("was changed"));
        // A field apply does not use is not covered.
        let mut plan = saved();
        plan["manifest"]["path"] = "elsewhere.yaml".into();
        assert!(parse(&plan).is_ok());
    }
}
