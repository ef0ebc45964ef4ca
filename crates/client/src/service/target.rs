//! What the background task syncs: a device's store against its signed-in server. A trait,
//! so the scheduling can be tested on paused time with a scripted stand-in.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use quire_core::settings::SettingKey;

use crate::credentials::SecretStore;
use crate::engine::{sync_and_check, CheckWhen, SyncReport};
use crate::store::StoreStatus;
use crate::{account, Result, Store};

/// Paused or not, as the person last chose; kept across restarts.
const SYNC_PAUSED: &str = "state.sync-paused";

pub trait SyncTarget: Send + Sync + 'static {
    /// One full sync round.
    fn run_round(&self) -> impl Future<Output = Result<SyncReport>> + Send;
    /// Counts for the status line.
    fn status(&self) -> impl Future<Output = Result<StoreStatus>> + Send;
    /// Whether a server and a session are set up (no timer runs without them).
    fn signed_in(&self) -> impl Future<Output = bool> + Send;
    /// The periodic interval.
    fn interval(&self) -> impl Future<Output = Duration> + Send;
    /// Whether sync was paused when the app last ran.
    fn paused(&self) -> impl Future<Output = bool> + Send;
    fn remember_paused(&self, paused: bool) -> impl Future<Output = ()> + Send;
    /// Something that changes when the machine's network does (its routes and addresses),
    /// or None where that cannot be seen.
    fn network_fingerprint(&self) -> Option<u64>;
}

/// The real thing: a store and the secrets holding its session token.
pub struct StoreTarget {
    pub store: Arc<Store>,
    pub secrets: Arc<dyn SecretStore>,
}

impl SyncTarget for StoreTarget {
    async fn run_round(&self) -> Result<SyncReport> {
        let (api, token) = account::session(&self.store, self.secrets.as_ref()).await?;
        let sealing = account::sealing(&self.store, self.secrets.as_ref()).await?;
        sync_and_check(&self.store, &api, &token, sealing.as_ref(), CheckWhen::Due).await
    }

    async fn status(&self) -> Result<StoreStatus> {
        self.store.status().await
    }

    async fn signed_in(&self) -> bool {
        account::signed_in(&self.store, self.secrets.as_ref())
            .await
            .is_ok_and(|who| who.is_some())
    }

    async fn interval(&self) -> Duration {
        // A store that cannot be read now is tried again at the next round.
        let secs = self
            .store
            .setting_as(SettingKey::SyncInterval, 60)
            .await
            .unwrap_or(60);
        Duration::from_secs(secs)
    }

    async fn paused(&self) -> bool {
        matches!(self.store.state(SYNC_PAUSED).await, Ok(Some(v)) if v == "1")
    }

    async fn remember_paused(&self, paused: bool) {
        let value = if paused { "1" } else { "0" };
        if let Err(err) = self.store.set_state(SYNC_PAUSED, value).await {
            tracing::warn!(
                "cannot remember that sync is {}: {err}",
                if paused { "paused" } else { "on" }
            );
        }
    }

    fn network_fingerprint(&self) -> Option<u64> {
        network_fingerprint()
    }
}

/// A hash of the kernel's routing tables and interface addresses (Linux): it changes when
/// a network comes or goes. Read only while offline, every few seconds.
pub fn network_fingerprint() -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut seen = false;
    for path in [
        "/proc/net/route",
        "/proc/net/ipv6_route",
        "/proc/net/if_inet6",
    ] {
        if let Ok(text) = std::fs::read(path) {
            text.hash(&mut hasher);
            seen = true;
        }
    }
    seen.then(|| hasher.finish())
}
