//! Wire types of sealed note texts (docs/e2e-design.md, "Sealed texts" and "Server
//! storage"): what an end-to-end account's ops carry instead of a title, body or patch, and
//! how the server hands a note's sealed chain back. The server sees their sizes, versions and
//! op ids, and never their content.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{OpId, Version};
use crate::text_hash::TextHash;

/// Sealed bytes, as standard base64 on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBytes(pub Vec<u8>);

impl SealedBytes {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SealedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedBytes({} bytes)", self.0.len())
    }
}

impl Serialize for SealedBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for SealedBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Base64Visitor)
    }
}

/// Decodes the text where the parser has it: a `Cow<str>` was always copied into a `String`
/// first, a copy of every sealed value a pull brings.
struct Base64Visitor;

impl serde::de::Visitor<'_> for Base64Visitor {
    type Value = SealedBytes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("base64 text")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SealedBytes, E> {
        STANDARD
            .decode(text.as_bytes())
            .map(SealedBytes)
            .map_err(|err| E::custom(format!("not base64: {err}")))
    }
}

/// What a sealed value holds, as the server may know it: a whole note, a change to the
/// version before, or a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SealedForm {
    Snapshot,
    Patch,
    Delete,
    /// A note deleted forever: the one entry its chain keeps, sealed by the device that
    /// purged it, so that other devices can tell a real purge from a server's say-so.
    Purge,
}

impl SealedForm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Purge => "purge",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "snapshot" => Some(Self::Snapshot),
            "patch" => Some(Self::Patch),
            "delete" => Some(Self::Delete),
            "purge" => Some(Self::Purge),
            _ => None,
        }
    }
}

/// The sealed text a push op of an end-to-end account carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedText {
    pub form: SealedForm,
    /// The sealed record (format byte, nonce, ciphertext), base64.
    #[schema(value_type = String, format = Byte)]
    pub data: SealedBytes,
    /// The keyed hash (`crypto::chain::text_mac`) of the text the op leaves: what the next
    /// op's `base_hash` must match. None for a delete, which leaves the text as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_mac: Option<TextHash>,
}

/// One link of a note's sealed chain: the value one op stored, with what a device needs to
/// rebuild its associated data and check its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedEntry {
    /// The version the op made.
    pub version: Version,
    pub op_id: OpId,
    /// The version the op was made on (`None` for a create).
    pub base_version: Option<Version>,
    pub form: SealedForm,
    #[schema(value_type = String, format = Byte)]
    pub data: SealedBytes,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sealed_bytes_travel_as_base64_and_refuse_anything_else() {
        let bytes = SealedBytes(vec![0, 1, 2, 250, 251, 252]);
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, "\"AAEC+vv8\"");
        assert_eq!(serde_json::from_str::<SealedBytes>(&json).unwrap(), bytes);
        // Escaped text comes to the visitor as a transient string, plain text as borrowed.
        let escaped: SealedBytes = serde_json::from_str(r#""\/\/\/\/""#).unwrap();
        assert_eq!(escaped, SealedBytes(vec![0xff; 3]));
        let borrowed: Vec<SealedBytes> = serde_json::from_slice(br#"["////"]"#).unwrap();
        assert_eq!(borrowed, [SealedBytes(vec![0xff; 3])]);
        assert!(serde_json::from_str::<SealedBytes>("\"not base64!\"").is_err());
        assert!(serde_json::from_str::<SealedBytes>("[1, 2]").is_err());
        assert_eq!(format!("{bytes:?}"), "SealedBytes(6 bytes)");
    }

    #[test]
    fn forms_have_stable_names() {
        for form in [
            SealedForm::Snapshot,
            SealedForm::Patch,
            SealedForm::Delete,
            SealedForm::Purge,
        ] {
            assert_eq!(SealedForm::parse(form.as_str()), Some(form));
            assert_eq!(
                serde_json::to_value(form).unwrap(),
                serde_json::json!(form.as_str())
            );
        }
        assert_eq!(SealedForm::parse("Snapshot"), None);
    }
}
