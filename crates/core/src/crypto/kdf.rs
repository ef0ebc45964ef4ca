//! From a password to the two secrets of an account. argon2id makes each guess at the
//! password cost memory and time; HKDF then splits its output in two with different labels,
//! so the secret the server sees (to authenticate) tells it nothing about the one that wraps
//! the data key.

use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, Secret32, KEY_BYTES};

/// Bytes of an account's salt.
pub const SALT_BYTES: usize = 16;

/// argon2id's cost settings, stored per account with its salt (so they can be raised later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory per derivation, in KiB. (The schema's bounds are [`Self::FLOOR`] and the
    /// ceiling; a test checks they agree.)
    #[schema(minimum = 65536, maximum = 262144)]
    #[serde(deserialize_with = "crate::ids::deserialize_count_u32")]
    pub memory_kib: u32,
    #[schema(minimum = 3, maximum = 8)]
    #[serde(deserialize_with = "crate::ids::deserialize_count_u32")]
    pub iterations: u32,
    #[schema(minimum = 1, maximum = 4)]
    #[serde(deserialize_with = "crate::ids::deserialize_count_u32")]
    pub parallelism: u32,
}

impl KdfParams {
    /// What a new account gets: 64 MiB, 3 passes (about half a second on a laptop).
    pub const DEFAULT: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    /// Never less than this: the settings come from the server, and a server that handed
    /// out cheap ones would get back a secret it could guess passwords against cheaply.
    pub const FLOOR: Self = Self::DEFAULT;
    /// Never more than this: nor may a server make a device spend minutes or run out of
    /// memory (4 times the default's memory, 8 passes).
    const CEILING: Self = Self {
        memory_kib: 256 * 1024,
        iterations: 8,
        parallelism: 4,
    };

    /// Settings a device agrees to derive with: between [`Self::FLOOR`] and a ceiling.
    pub fn check(self) -> Result<Self, CryptoError> {
        self.check_within(Self::FLOOR)
    }

    fn check_within(self, floor: Self) -> Result<Self, CryptoError> {
        let (ceiling, out_of_range) =
            (Self::CEILING, |what: &str, value: u32, lo: u32, hi: u32| {
                CryptoError::KdfParams(format!("{what} {value} is not within {lo} to {hi}"))
            });
        for (what, value, lo, hi) in [
            (
                "memory (KiB)",
                self.memory_kib,
                floor.memory_kib,
                ceiling.memory_kib,
            ),
            (
                "iterations",
                self.iterations,
                floor.iterations,
                ceiling.iterations,
            ),
            (
                "parallelism",
                self.parallelism,
                floor.parallelism,
                ceiling.parallelism,
            ),
        ] {
            if value < lo || value > hi {
                return Err(out_of_range(what, value, lo, hi));
            }
        }
        Ok(self)
    }
}

/// The two secrets a password gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSecrets {
    /// Sent to the server, which keeps only its argon2id hash.
    pub auth: Secret32,
    /// Wraps the data key; never leaves the device.
    pub wrap: Secret32,
}

const AUTH_LABEL: &[u8] = b"quire/v1/auth";
const WRAP_LABEL: &[u8] = b"quire/v1/wrap";

/// The account's secrets from its password and salt, with settings checked against the
/// floor and ceiling first.
pub fn derive_from_password(
    password: &str,
    salt: &[u8; SALT_BYTES],
    params: KdfParams,
) -> Result<AccountSecrets, CryptoError> {
    derive_with(password, salt, params.check()?)
}

/// As [`derive_from_password`] without the floor: for tests, which cannot afford 64 MiB
/// per derivation in a debug build.
#[cfg(test)]
pub(crate) fn derive_for_tests(
    password: &str,
    salt: &[u8; SALT_BYTES],
    params: KdfParams,
) -> Result<AccountSecrets, CryptoError> {
    derive_with(password, salt, params)
}

fn derive_with(
    password: &str,
    salt: &[u8; SALT_BYTES],
    params: KdfParams,
) -> Result<AccountSecrets, CryptoError> {
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(KEY_BYTES),
    )
    .map_err(|err| CryptoError::KdfParams(err.to_string()))?;
    let mut master = Zeroizing::new([0u8; KEY_BYTES]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
        .hash_password_into(password.as_bytes(), salt, master.as_mut())
        .map_err(|err| CryptoError::KdfParams(err.to_string()))?;
    Ok(split(master.as_ref()))
}

/// Two unrelated secrets from one high-entropy input (HKDF-SHA256, two labels).
pub(super) fn split(input: &[u8]) -> AccountSecrets {
    split_with(input, AUTH_LABEL, WRAP_LABEL)
}

pub(super) fn split_with(input: &[u8], auth_label: &[u8], wrap_label: &[u8]) -> AccountSecrets {
    let hkdf = Hkdf::<Sha256>::new(None, input);
    let expand = |label: &[u8]| {
        let mut out = [0u8; KEY_BYTES];
        // 32 bytes is far below HKDF-SHA256's limit (255 * 32): this cannot fail.
        let _ = hkdf.expand(label, &mut out);
        Secret32::from_bytes(out)
    };
    AccountSecrets {
        auth: expand(auth_label),
        wrap: expand(wrap_label),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Cheap settings: the derivation is the same code, at a cost a debug test can pay.
    const CHEAP: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn a_password_gives_the_same_secrets_each_time_and_two_unrelated_ones() {
        let salt = [7u8; SALT_BYTES];
        let a = derive_for_tests("correct horse", &salt, CHEAP).unwrap();
        let b = derive_for_tests("correct horse", &salt, CHEAP).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.auth, a.wrap);
    }

    #[test]
    fn another_password_salt_or_cost_gives_other_secrets() {
        let salt = [7u8; SALT_BYTES];
        let base = derive_for_tests("correct horse", &salt, CHEAP).unwrap();
        let others = [
            derive_for_tests("correct horsf", &salt, CHEAP).unwrap(),
            derive_for_tests("correct horse", &[8u8; SALT_BYTES], CHEAP).unwrap(),
            derive_for_tests(
                "correct horse",
                &salt,
                KdfParams {
                    iterations: 2,
                    ..CHEAP
                },
            )
            .unwrap(),
        ];
        for other in others {
            assert_ne!(other.auth, base.auth);
            assert_ne!(other.wrap, base.wrap);
        }
    }

    #[test]
    fn settings_below_the_floor_or_above_the_ceiling_are_refused_before_any_work() {
        let salt = [0u8; SALT_BYTES];
        let weak = KdfParams {
            memory_kib: 1024,
            ..KdfParams::DEFAULT
        };
        let err = derive_from_password("pw", &salt, weak).unwrap_err();
        assert!(matches!(err, CryptoError::KdfParams(_)), "{err}");
        for (memory_kib, iterations, parallelism) in [
            (64 * 1024, 2, 1),
            (64 * 1024, 3, 0),
            (4 * 1024 * 1024, 3, 1),
            (64 * 1024, 1000, 1),
        ] {
            let params = KdfParams {
                memory_kib,
                iterations,
                parallelism,
            };
            assert!(params.check().is_err(), "{params:?}");
        }
        assert_eq!(KdfParams::DEFAULT.check(), Ok(KdfParams::DEFAULT));
    }

    /// The derivation is argon2id (RFC 9106) followed by HKDF-SHA256 (RFC 5869): checked
    /// against the argon2 crate's own hash of the same input, so a change of algorithm,
    /// version or output length shows here.
    #[test]
    fn the_secrets_are_hkdf_of_argon2id() {
        let salt = [1u8; SALT_BYTES];
        let mut master = [0u8; KEY_BYTES];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, Some(KEY_BYTES)).unwrap(),
        )
        .hash_password_into(b"pw", &salt, &mut master)
        .unwrap();
        let expected = split(&master);
        assert_eq!(derive_for_tests("pw", &salt, CHEAP).unwrap(), expected);
        let hkdf = Hkdf::<Sha256>::new(None, &master);
        let mut auth = [0u8; KEY_BYTES];
        hkdf.expand(b"quire/v1/auth", &mut auth).unwrap();
        assert_eq!(expected.auth.expose(), &auth);
    }

    /// Pinned outputs: a change of algorithm, label or parameter handling would leave every
    /// existing account unable to unwrap its data key, so it must fail here first.
    #[test]
    fn the_derivation_never_changes_for_an_existing_account() {
        let secrets = derive_for_tests("pw", &[1u8; SALT_BYTES], CHEAP).unwrap();
        assert_eq!(
            hex::encode(secrets.auth.expose()),
            "57fe97529fd8fef36e6bce77636fbd18dad6271596266c945e64af8b5fb746ea"
        );
        assert_eq!(
            hex::encode(secrets.wrap.expose()),
            "b28a991db7104a5266896c07378a63254bddbd557fecd1a36500ed4b70b44214"
        );
    }
}
