//! What binds a change to the exact text it was made on (PRODUCT.md, "Differential sync"):
//! a hash of a note's title and body. A version number alone is not enough: once a server
//! is restored from a backup, two different texts can carry the same version, and a patch
//! that only has to cover its base's length applies to a different text of that length.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// SHA-256 over a note's title (trimmed, as the server keeps it) and body, length-prefixed
/// so that no title/body split of one string hashes like another. Sent as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
pub struct TextHash([u8; 32]);

impl TextHash {
    pub fn of(title: &str, body: &str) -> Self {
        let title = title.trim();
        let mut hasher = Sha256::new();
        hasher.update(b"quire-text-v1\0");
        hasher.update((title.len() as u64).to_le_bytes());
        hasher.update(title.as_bytes());
        hasher.update(body.as_bytes());
        Self(hasher.finalize().into())
    }

    /// A hash made elsewhere (a keyed one, see `crypto::chain::text_mac`).
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for TextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TextHash({})", self.to_hex())
    }
}

impl fmt::Display for TextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a text hash is 64 lowercase hex digits")]
pub struct InvalidTextHash;

impl FromStr for TextHash {
    type Err = InvalidTextHash;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(InvalidTextHash);
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidTextHash)?;
        Ok(Self(bytes))
    }
}

impl Serialize for TextHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for TextHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn same_length_texts_hash_apart() {
        // The case: a base that differs from the server's text but has its length.
        let server = TextHash::of("List", "- [ ] eggs\n- [ ] milk\n");
        let device = TextHash::of("List", "- [ ] milk\n- [ ] eggs\n");
        assert_ne!(server, device);
    }

    #[test]
    fn title_and_body_cannot_trade_bytes() {
        assert_ne!(TextHash::of("ab", "c"), TextHash::of("a", "bc"));
    }

    #[test]
    fn the_title_counts_as_the_server_keeps_it() {
        assert_eq!(TextHash::of("  Plan ", "x"), TextHash::of("Plan", "x"));
    }

    #[test]
    fn it_reads_only_what_it_writes() {
        let hash = TextHash::of("t", "b");
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json.len(), 66);
        assert_eq!(serde_json::from_str::<TextHash>(&json).unwrap(), hash);
        for bad in ["\"\"", "\"abc\"", &json.to_uppercase(), "12"] {
            assert!(serde_json::from_str::<TextHash>(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn different_texts_hash_apart(a in ".{0,20}", b in ".{0,20}", c in ".{0,20}", d in ".{0,20}") {
            prop_assume!((a.trim(), &b) != (c.trim(), &d));
            prop_assert_ne!(TextHash::of(&a, &b), TextHash::of(&c, &d));
        }
    }
}
