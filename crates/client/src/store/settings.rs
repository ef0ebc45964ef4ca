//! Settings and the device's identity and status.

use quire_core::settings::SettingKey;
use quire_core::DeviceId;
use serde::Serialize;
use sqlx::SqlitePool;
use uuid::Uuid;

use super::{decode, Store};
use crate::account::{ACCOUNT_NAME, INSECURE_HTTP};
use crate::{Error, Result};

/// What `quire status` and the app's status line show about the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StoreStatus {
    pub device_id: DeviceId,
    #[ts(type = "number")]
    pub notes: u64,
    #[ts(type = "number")]
    pub pending_ops: u64,
    #[ts(type = "number")]
    pub open_conflicts: u64,
    /// Changes the server refused, waiting in the "needs attention" list.
    #[ts(type = "number")]
    pub needs_attention: u64,
    /// The sync server, if one is set.
    pub server: Option<String>,
    /// When the last full sync round finished (ms since the epoch), if one ever did.
    #[ts(type = "number | null")]
    pub last_sync_at: Option<i64>,
    /// When a check last found this device holding exactly what the server holds (ms since
    /// the epoch), if one ever did.
    #[ts(type = "number | null")]
    pub last_verified_at: Option<i64>,
}

/// Engine state kept beside the settings; not settable with `quire config`.
pub(super) const LAST_SYNC_AT: &str = "state.last-sync-at";
/// When a check last found this device equal to the server (`Store::verified_at`).
pub(super) const VERIFIED_AT: &str = "state.verified-at";

/// Makes this device's identity on first open; returns it.
pub(super) async fn ensure_device(pool: &SqlitePool) -> Result<DeviceId> {
    sqlx::query("INSERT OR IGNORE INTO device (id, device_id, clock) VALUES (1, ?, 0)")
        .bind(Uuid::now_v7().to_string())
        .execute(pool)
        .await?;
    device_id(pool).await
}

async fn device_id(pool: &SqlitePool) -> Result<DeviceId> {
    let id: String = sqlx::query_scalar("SELECT device_id FROM device WHERE id = 1")
        .fetch_one(pool)
        .await?;
    decode(&id, "device id")
}

impl Store {
    /// The id this store's changes carry. Read each time: a store found restored or copied
    /// takes a new one, perhaps in another process on the same data dir.
    pub async fn device_id(&self) -> Result<DeviceId> {
        device_id(&self.pool).await
    }

    /// A setting's value: what was set, else its default, else `None`.
    pub async fn setting(&self, key: SettingKey) -> Result<Option<String>> {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key.name())
            .fetch_optional(&self.pool)
            .await?;
        Ok(stored.or_else(|| key.default_value().map(str::to_owned)))
    }

    /// A setting's value (or default) parsed as `T`; `fallback` when it has none or does not
    /// parse (settings are checked when set, so that is only ever an old or damaged value).
    pub async fn setting_as<T: std::str::FromStr>(
        &self,
        key: SettingKey,
        fallback: T,
    ) -> Result<T> {
        Ok(self
            .setting(key)
            .await?
            .and_then(|value| value.parse().ok())
            .unwrap_or(fallback))
    }

    /// Checks, normalises and stores a setting; returns the value as stored.
    ///
    /// A different `server` also withdraws the permission for plain HTTP to another machine:
    /// it was given for one server, and has to be given again (by signing in) for the next.
    pub async fn set_setting(&self, key: SettingKey, value: &str) -> Result<String> {
        let value = key.parse_value(value)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key.name())
        .bind(&value)
        .execute(&mut *tx)
        .await?;
        if key == SettingKey::Server {
            // The permission holds the URL it was given for; setting that same URL again
            // keeps it.
            sqlx::query("DELETE FROM settings WHERE key = ? AND value IS NOT ?")
                .bind(INSECURE_HTTP)
                .bind(&value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(value)
    }

    /// Forgets a setting, so its default applies again (`quire config unset`, "Clear" in
    /// Settings); returns the value that applies now. Forgetting `server` also withdraws the
    /// plain-HTTP permission given for it, and is refused while signed in to it (the token
    /// would be left without its server, and could not be revoked). Forgetting `vault-dir`
    /// also forgets what Quire knew of that folder's files: set again later, the folder is
    /// read as new, and files removed meanwhile delete no notes.
    pub async fn unset_setting(&self, key: SettingKey) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        if key == SettingKey::Server {
            let signed_in_to: Option<(String,)> = sqlx::query_as(
                "SELECT s.value FROM settings s JOIN settings a ON a.key = ?
                 WHERE s.key = ?",
            )
            .bind(ACCOUNT_NAME)
            .bind(key.name())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((server,)) = signed_in_to {
                return Err(Error::SignOutFirst(server));
            }
        }
        if key == SettingKey::VaultDir {
            sqlx::query("DELETE FROM vault_files")
                .execute(&mut *tx)
                .await?;
        }
        let forgotten: &[&str] = if key == SettingKey::Server {
            &[key.name(), INSECURE_HTTP]
        } else {
            &[key.name()]
        };
        for name in forgotten {
            sqlx::query("DELETE FROM settings WHERE key = ?")
                .bind(*name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(key.default_value().map(str::to_owned))
    }

    /// Engine state kept beside the settings (`state.*` keys, not settable by people).
    pub(crate) async fn state(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn set_state(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn clear_state(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn status(&self) -> Result<StoreStatus> {
        let (notes, pending_ops, open_conflicts, needs_attention): (i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM notes WHERE deleted = 0),
                    (SELECT count(*) FROM outbox),
                    (SELECT count(*) FROM conflicts WHERE resolved_at IS NULL),
                    (SELECT count(*) FROM attention)
                        + (SELECT count(*) FROM unreadable_notes)",
            )
            .fetch_one(&self.pool)
            .await?;
        let last_sync_at = self.state(LAST_SYNC_AT).await?;
        Ok(StoreStatus {
            device_id: self.device_id().await?,
            notes: u64::try_from(notes).unwrap_or(0),
            pending_ops: u64::try_from(pending_ops).unwrap_or(0),
            open_conflicts: u64::try_from(open_conflicts).unwrap_or(0),
            needs_attention: u64::try_from(needs_attention).unwrap_or(0),
            server: self.setting(SettingKey::Server).await?,
            last_sync_at: last_sync_at
                .map(|v| decode(&v, "last sync time"))
                .transpose()?,
            last_verified_at: self.verified_at().await?.map(|at| at.0),
        })
    }
}
