//! [`AppState`]: what every request handler can reach.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;

use crate::client_addr::TrustedProxy;
use crate::config::Limits;
use crate::db::Db;
use crate::passwords;

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub limits: Limits,
    pub token_ttl: Duration,
    /// Peers whose X-Forwarded-For is believed (see [`crate::client_addr`]); none by default.
    pub trusted_proxies: Arc<[TrustedProxy]>,
    /// Shared by every request: the bound on password hashes running at once.
    pub(crate) hashes: passwords::HashSlots,
    /// The secret stand-in salts are made from (see `account_keys`), read once.
    pub(crate) stand_in_salt_secret: Arc<tokio::sync::OnceCell<[u8; 32]>>,
}

impl AppState {
    pub fn new(db: Db, limits: Limits, token_ttl: Duration) -> Self {
        Self {
            hashes: passwords::HashSlots::new(&limits),
            db,
            limits,
            token_ttl,
            trusted_proxies: Arc::new([]),
            stand_in_salt_secret: Arc::default(),
        }
    }

    /// Believes X-Forwarded-For from these peers (the reverse proxies in front).
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: Vec<TrustedProxy>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }
}

/// What [`crate::client_addr::ClientAddr`] reads of the state.
impl FromRef<AppState> for Arc<[TrustedProxy]> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.trusted_proxies)
    }
}
