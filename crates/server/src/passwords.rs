//! Password hashing (argon2id), bounded.
//!
//! Each hash needs 19 MiB for a good fraction of a second, so a burst of logins or
//! registrations could take gigabytes and every blocking thread. At most
//! `--max-concurrent-hashes` run at once; a request waits for a slot up to `--hash-wait-ms`,
//! then is answered 503 with Retry-After. A hash that started finishes and releases its
//! slot even when its request was given up on, so the bound holds.
//!
//! Each slot keeps its 19 MiB and lends it to the next hash. Allocating it afresh per hash
//! (what `Argon2::hash_password` does) made the allocator keep every freed block around:
//! 150 registrations, four at a time, left the server at 1 GB. The PHC strings are the same
//! as `argon2`'s own, so hashes stored before verify, and the other way round.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::http::StatusCode;
use quire_core::protocol::problem;
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::config::Limits;
use crate::problem::ApiError;

/// The working memory of one hash.
type Memory = Vec<Block>;

/// The slots for password hashes, shared by every request of one server process.
#[derive(Debug, Clone)]
pub struct HashSlots {
    slots: Arc<Semaphore>,
    /// One buffer per slot in use so far. A std mutex: it is held only to take or return a
    /// buffer, never across an await.
    memory: Arc<Mutex<Vec<Memory>>>,
    wait: Duration,
}

impl HashSlots {
    pub fn new(limits: &Limits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrent_hashes.max(1) as usize)),
            memory: Arc::new(Mutex::new(Vec::new())),
            wait: Duration::from_millis(limits.hash_wait_ms),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, with that slot's memory.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit =
            match tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_closed)) => return Err(ApiError::internal()),
                Err(_elapsed) => {
                    tracing::warn!("password checks are queued beyond their wait; answering 503");
                    return Err(busy(self.wait));
                }
            };
        let pool = Arc::clone(&self.memory);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = pool
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()
                .unwrap_or_default();
            let result = work(&mut memory);
            pool.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(memory);
            result
        })
        .await
        .map_err(|_| ApiError::internal())
    }

    /// An argon2id PHC string for `password`, with a fresh salt and the default parameters.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| {
            let mut salt = [0u8; 16];
            rand::rng().fill_bytes(&mut salt);
            let salt = SaltString::encode_b64(&salt)?;
            let params = Params::default();
            let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
            let output = compute(
                password.as_bytes(),
                algorithm,
                version,
                &params,
                salt.as_salt(),
                memory,
            )?;
            let phc = PasswordHash {
                algorithm: algorithm.ident(),
                version: Some(version.into()),
                params: ParamsString::try_from(&params)?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok::<_, argon2::password_hash::Error>(phc.to_string())
        })
        .await?
        .map_err(|err| {
            tracing::error!("cannot hash a password: {err}");
            ApiError::internal()
        })
    }

    /// Whether `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, ApiError> {
        self.run(move |memory| {
            let Ok(hash) = PasswordHash::new(&stored) else {
                return false;
            };
            let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
                return false;
            };
            let parts = Algorithm::try_from(hash.algorithm).and_then(|algorithm| {
                let version = hash
                    .version
                    .map(Version::try_from)
                    .transpose()?
                    .unwrap_or_default();
                Ok((algorithm, version, Params::try_from(&hash)?))
            });
            let Ok((algorithm, version, params)) = parts else {
                return false;
            };
            // `Output`'s equality takes the same time wherever the outputs differ.
            compute(
                password.as_bytes(),
                algorithm,
                version,
                &params,
                salt,
                memory,
            )
            .is_ok_and(|computed| computed == expected)
        })
        .await
    }

    /// A hash of a random password, made once per process, to check unknown usernames
    /// against: a login for a name nobody has costs what one for a real account costs, so
    /// response times do not tell which names exist.
    pub async fn dummy(&self) -> Result<String, ApiError> {
        static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        DUMMY
            .get_or_try_init(|| async {
                let mut random = [0u8; 16];
                rand::rng().fill_bytes(&mut random);
                self.hash(hex::encode(random)).await
            })
            .await
            .cloned()
    }
}

/// The Argon2 output for `password` under these settings, computed in `memory` (grown to
/// what `params` need; a hash this server made needs what every other one does).
fn compute(
    password: &[u8],
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    salt: Salt<'_>,
    memory: &mut Memory,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(Into::into)
    })
}

/// 503: every hash slot stayed taken for the whole wait.
fn busy(wait: Duration) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        problem::UNAVAILABLE,
        "the server is busy checking passwords; try again shortly",
    );
    // The queue stayed full for a whole wait; about as long again is a fair pause.
    err.retry_after = Some(wait.as_secs().clamp(1, 60));
    err
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn slots() -> HashSlots {
        HashSlots::new(&Limits::default())
    }

    #[tokio::test]
    async fn hashes_are_argon2s_own_both_ways() {
        let slots = slots();
        let ours = slots.hash("correct horse".to_owned()).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err());

        // A hash stored by `Argon2::hash_password` before slots kept their memory.
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let stored = Argon2::default()
            .hash_password(b"old password", &salt)
            .unwrap()
            .to_string();
        assert!(slots
            .verify("old password".to_owned(), stored.clone())
            .await
            .unwrap());
        assert!(!slots
            .verify("old passwore".to_owned(), stored)
            .await
            .unwrap());
        // The memory of the first hash, reused, changes nothing.
        assert!(slots
            .verify("correct horse".to_owned(), ours)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn other_parameters_and_garbage_are_handled() {
        let slots = slots();
        let params = Params::new(1024, 1, 1, None).unwrap();
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::encode_b64(&[9u8; 16]).unwrap();
        let stored = small.hash_password(b"pw pw pw", &salt).unwrap().to_string();
        assert!(slots.verify("pw pw pw".to_owned(), stored).await.unwrap());
        for garbage in [
            "",
            "$argon2id$",
            "plain text",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$",
        ] {
            assert!(!slots
                .verify("pw".to_owned(), garbage.to_owned())
                .await
                .unwrap());
        }
    }
}
