//! The recovery key: 256 random bits the person writes down at sign-up, which can set a new
//! password when the old one is lost. Written as Crockford base32 in groups of five, with a
//! checksum, so a mistyped character is caught here and never sent anywhere.

use sha2::{Digest, Sha256};

use super::kdf::{split_with, AccountSecrets};
use super::{CryptoError, Secret32, KEY_BYTES};

/// Crockford's base32: no I, L, O or U, so nothing reads as another character.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK_BYTES: usize = 2;
const GROUP: usize = 5;

/// The recovery key; never printed except by [`RecoveryKey::to_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryKey(Secret32);

impl RecoveryKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(Secret32::from_bytes(bytes))
    }

    /// Its two secrets, as a password's: one the server authenticates a recovery with, one
    /// that wraps the data key. (The key is random, so no slow derivation is needed.)
    pub fn secrets(&self) -> AccountSecrets {
        split_with(
            self.0.expose(),
            b"quire/v1/recovery-auth",
            b"quire/v1/recovery-wrap",
        )
    }

    /// As the person writes it down: `XXXXX-XXXXX-...`.
    pub fn to_text(&self) -> String {
        let mut bytes = self.0.expose().to_vec();
        bytes.extend_from_slice(&checksum(self.0.expose()));
        let chars = encode(&bytes);
        chars
            .chunks(GROUP)
            .map(|group| group.iter().map(|&c| char::from(c)).collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Reads it back as typed: any case, with or without the dashes and spaces, and O, I
    /// or L read as the digits they look like.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut values = Vec::with_capacity(64);
        for c in text.chars() {
            let value = match c.to_ascii_uppercase() {
                '-' | ' ' | '\t' | '\n' | '\r' => continue,
                'O' => 0,
                'I' | 'L' => 1,
                other => ALPHABET
                    .iter()
                    .position(|&a| char::from(a) == other)
                    .ok_or_else(|| {
                        CryptoError::BadRecoveryKey(format!("{c:?} is not in a recovery key"))
                    })?,
            };
            values.push(u8::try_from(value).unwrap_or(0));
        }
        let bytes = decode(&values);
        let expected = encoded_len(KEY_BYTES + CHECK_BYTES);
        if values.len() != expected || bytes.len() != KEY_BYTES + CHECK_BYTES {
            return Err(CryptoError::BadRecoveryKey(format!(
                "it has {} letters and digits; a recovery key has {expected}",
                values.len()
            )));
        }
        let (key, check) = bytes.split_at(KEY_BYTES);
        let key: [u8; KEY_BYTES] = key
            .try_into()
            .map_err(|_| CryptoError::BadRecoveryKey("wrong length".to_owned()))?;
        if check != checksum(&key) {
            return Err(CryptoError::BadRecoveryKey(
                "a letter or digit is mistyped (its check does not match)".to_owned(),
            ));
        }
        Ok(Self::from_bytes(key))
    }
}

fn checksum(key: &[u8; KEY_BYTES]) -> [u8; CHECK_BYTES] {
    let digest = Sha256::digest(key);
    [digest[0], digest[1]]
}

fn encoded_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(5)
}

/// Base32 characters of `bytes`, most significant bits first, the last padded with zeros.
fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(bytes.len()));
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize]);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize]);
    }
    out
}

/// Bytes of base32 values (0 to 31), dropping the padding bits at the end.
fn decode(values: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &value in values {
        buffer = (buffer << 5) | u32::from(value & 31);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_recovery_key_is_eleven_groups_of_five_that_read_back() {
        let key = RecoveryKey::from_bytes([0xA5; KEY_BYTES]);
        let text = key.to_text();
        assert_eq!(text.len(), 11 * 5 + 10, "{text}");
        assert!(text.split('-').all(|group| group.len() == 5), "{text}");
        assert_eq!(RecoveryKey::parse(&text).unwrap(), key);
        // As a person may type it.
        let typed = text.to_lowercase().replace('-', " ").replace('0', "o");
        assert_eq!(RecoveryKey::parse(&typed).unwrap(), key);
    }

    /// Pinned: a key written down today must read back in any later Quire.
    #[test]
    fn the_written_form_never_changes() {
        assert_eq!(
            RecoveryKey::from_bytes([0; KEY_BYTES]).to_text(),
            "00000-00000-00000-00000-00000-00000-00000-00000-00000-00000-06CT0"
        );
    }

    #[test]
    fn a_mistyped_recovery_key_is_a_clear_error() {
        let text = RecoveryKey::from_bytes([7; KEY_BYTES]).to_text();
        let mut swapped: Vec<char> = text.chars().collect();
        let i = swapped.iter().position(|c| *c != '-').unwrap();
        swapped[i] = if swapped[i] == 'A' { 'B' } else { 'A' };
        let swapped: String = swapped.into_iter().collect();
        for (bad, says) in [
            (swapped.as_str(), "mistyped"),
            (&text[..text.len() - 1], "letters and digits"),
            ("not a key at all!", "not in a recovery key"),
            ("", "letters and digits"),
        ] {
            let err = RecoveryKey::parse(bad).unwrap_err();
            assert!(
                matches!(&err, CryptoError::BadRecoveryKey(m) if m.contains(says)),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn its_secrets_differ_from_each_other_and_from_another_keys() {
        let a = RecoveryKey::from_bytes([1; KEY_BYTES]).secrets();
        let b = RecoveryKey::from_bytes([2; KEY_BYTES]).secrets();
        assert_ne!(a.auth, a.wrap);
        assert_ne!(a.auth, b.auth);
        assert_ne!(a.wrap, b.wrap);
    }

    proptest! {
        #[test]
        fn every_key_reads_back_from_its_text(bytes in any::<[u8; KEY_BYTES]>()) {
            let key = RecoveryKey::from_bytes(bytes);
            prop_assert_eq!(RecoveryKey::parse(&key.to_text()).unwrap(), key);
        }
    }
}
