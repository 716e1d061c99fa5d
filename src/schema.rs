//! The manifest's JSON Schema, generated from the Rust types so that it cannot drift.

use crate::manifest::Manifest;

/// Where the generated schema is committed; editors find it through the manifest's
/// `yaml-language-server` modeline.
pub const SCHEMA_PATH: &str = "schemas/manifest.v1.json";

/// The JSON Schema of manifest v1, pretty-printed, ending with a newline.
pub fn manifest_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed schema must be what the types generate. To refresh it after changing
    /// the manifest types: `cargo run -- schema > schemas/manifest.v1.json`.
    #[test]
    fn committed_schema_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == manifest_schema(),
            "{SCHEMA_PATH} is stale: run `cargo run -- schema > {SCHEMA_PATH}` and commit it"
        );
    }

    #[test]
    fn schema_rejects_unknown_keys() {
        let schema: serde_json::Value = serde_json::from_str(&manifest_schema()).unwrap();
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["$defs"]["UserSpec"]["additionalProperties"], false);
        assert_eq!(schema["required"], serde_json::json!(["version", "pool"]));
    }
}
