//! Wire types of end-to-end encryption's account keys (docs/e2e-design.md, "Keys"): what a
//! device sends the server at sign-up, password change and recovery, and what it gets back.
//! The server stores and returns these values and checks their shapes; none of them lets it
//! read a note.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::crypto::kdf::{KdfParams, SALT_BYTES};
use crate::crypto::seal::OVERHEAD;
use crate::crypto::KEY_BYTES;

/// Bytes of a wrapped data key: the key sealed with its overhead.
pub const WRAPPED_KEY_BYTES: usize = OVERHEAD + KEY_BYTES;

/// Exactly `N` bytes, written as lowercase hex. Anything else (another length, not hex) is
/// refused when read, so a handler never sees a value of the wrong shape. Its `Debug` shows
/// only the length: some of these are secrets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> Hex<N> {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From stored hex: `None` unless it is exactly `N` bytes.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; N];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl<const N: usize> std::fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hex({N} bytes)")
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("expected {N} bytes as {} hex digits", 2 * N))
        })
    }
}

/// How an account's secrets are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum KeyScheme {
    /// From the password through argon2id: the server gets an auth secret, never the
    /// password, and keeps the data key only wrapped.
    #[serde(rename = "e2e-v1")]
    E2eV1,
    /// An account made before end-to-end encryption: the password itself signs in, and
    /// notes are stored in plaintext until a device upgrades the account.
    #[serde(rename = "legacy")]
    Legacy,
}

/// Answer of `GET /v1/accounts/{username}/kdf`: what a device needs to derive the secrets
/// from the password before signing in. A name with no account gets a salt that is stable
/// for that name and the default settings, so the answer does not tell who has an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KdfInfo {
    pub scheme: KeyScheme,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 32, max_length = 32)]
    pub salt: Hex<SALT_BYTES>,
    pub kdf: KdfParams,
}

/// The keys a new account is made with, all made on the signing-up device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountKeys {
    /// The id every sealed value names; made by the device, so that a seal can never name
    /// an account the device did not agree to.
    pub account_id: Uuid,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 32, max_length = 32)]
    pub salt: Hex<SALT_BYTES>,
    pub kdf: KdfParams,
    /// The data key sealed under the password's wrap secret.
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 146, max_length = 146)]
    pub wrapped_key: Hex<WRAPPED_KEY_BYTES>,
    /// The recovery key's auth secret; the server keeps only its hash.
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub recovery_auth: Hex<KEY_BYTES>,
    /// The data key sealed under the recovery key's wrap secret.
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 146, max_length = 146)]
    pub recovery_wrapped_key: Hex<WRAPPED_KEY_BYTES>,
}

/// What signing in to an end-to-end account returns beside the token: the wrapped data key,
/// which only the password's wrap secret opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionKeys {
    pub account_id: Uuid,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 146, max_length = 146)]
    pub wrapped_key: Hex<WRAPPED_KEY_BYTES>,
}

/// A new password, as the server keeps it: the auth secret (the server stores its hash),
/// and the data key wrapped under the new wrap secret, with the salt and settings that
/// derive both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub password: Hex<KEY_BYTES>,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 32, max_length = 32)]
    pub salt: Hex<SALT_BYTES>,
    pub kdf: KdfParams,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 146, max_length = 146)]
    pub wrapped_key: Hex<WRAPPED_KEY_BYTES>,
}

/// Body of `PUT /v1/accounts/current/password`: the current password's auth secret, checked
/// like a login, and the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub old_password: Hex<KEY_BYTES>,
    pub new: NewPassword,
}

/// Body of `POST /v1/recovery/key`: proof of the recovery key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryProof {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub recovery_auth: Hex<KEY_BYTES>,
}

/// Answer of `POST /v1/recovery/key`: the data key wrapped under the recovery key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveredKey {
    pub account_id: Uuid,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 146, max_length = 146)]
    pub recovery_wrapped_key: Hex<WRAPPED_KEY_BYTES>,
}

/// Body of `POST /v1/recovery/password`: a new password set with the recovery key; every
/// session of the account ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryReset {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub recovery_auth: Hex<KEY_BYTES>,
    pub new: NewPassword,
}

/// Answer of `GET /v1/accounts/current`: the account a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInfo {
    /// The id every sealed value of the account names.
    pub account_id: Uuid,
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)]
    pub username: String,
    pub scheme: KeyScheme,
}

/// Body of `POST /v1/accounts/current/upgrade`: an account made before end-to-end
/// encryption takes keys made on the device, as a new account does. The device proves the
/// password it signs in with today, and that it has pulled every change (`cursor`: the
/// account's head), so that it holds every note it will seal again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysUpgrade {
    /// The password as the account signs in with it today; at most 1024 characters.
    #[schema(max_length = 1024)]
    pub password: String,
    /// The auth secret derived from it, with which the account signs in from now on.
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub auth: Hex<KEY_BYTES>,
    /// `account_id` must be the account's own (see [`AccountInfo`]).
    pub keys: AccountKeys,
    /// The cursor up to which the device has pulled.
    #[serde(deserialize_with = "crate::ids::deserialize_count")]
    #[schema(maximum = 9_223_372_036_854_775_807_i64)]
    pub cursor: u64,
    /// Every note the device holds as the server has it (id, version, deleted, text hash),
    /// sealed under the data key (`crypto::manifest`): another device that finishes this
    /// upgrade takes only these from the server in the clear. At most 57 bytes a note of
    /// the account, plus 41.
    #[schema(value_type = String, format = Byte)]
    pub manifest: crate::protocol::SealedBytes,
}

/// Answer of `GET /v1/accounts/current/upgrade-manifest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpgradeManifest {
    /// As the upgrading device sent it.
    #[schema(value_type = String, format = Byte)]
    pub manifest: crate::protocol::SealedBytes,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hex_values_read_back_only_at_their_exact_length() {
        let salt = Hex([0xab; SALT_BYTES]);
        let json = serde_json::to_string(&salt).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(SALT_BYTES)));
        assert_eq!(
            serde_json::from_str::<Hex<SALT_BYTES>>(&json).unwrap(),
            salt
        );
        for bad in [
            "\"ab\"".to_owned(),
            format!("\"{}\"", "ab".repeat(SALT_BYTES + 1)),
            format!("\"{}\"", "zz".repeat(SALT_BYTES)),
            "17".to_owned(),
        ] {
            let err = serde_json::from_str::<Hex<SALT_BYTES>>(&bad);
            assert!(err.is_err(), "{bad} was read");
        }
        assert_eq!(
            format!("{salt:?}"),
            "Hex(16 bytes)",
            "never prints a secret"
        );
    }

    #[test]
    fn the_kdf_answer_has_a_stable_json_shape() {
        let info = KdfInfo {
            scheme: KeyScheme::E2eV1,
            salt: Hex([1; SALT_BYTES]),
            kdf: KdfParams::DEFAULT,
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            serde_json::json!({
                "scheme": "e2e-v1",
                "salt": "01".repeat(SALT_BYTES),
                "kdf": {"memory_kib": 65536, "iterations": 3, "parallelism": 1},
            })
        );
    }
}
