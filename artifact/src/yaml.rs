//! YAML in and out, with the parser's budget on (alias bombs, deep nesting
//! and node floods are refused) and duplicate keys refused.

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use serde_saphyr::Error as YamlError;

/// Parses YAML text into `T`, refusing duplicate keys and anything over the
/// parser's budget.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    serde_saphyr::from_str_with_options(text, options)
}

/// Serialises `value` as YAML. The output depends only on the value, so it
/// is reproducible.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(value)
}
