//! The settings a person can change with `quire config` (and later the app's settings
//! screen): their names, defaults, and what a valid value looks like.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::server_url::normalise_setting;
pub use crate::server_url::{check_server_url, ServerUrl};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum SettingKey {
    /// The sync server's base URL.
    Server,
    ConflictPolicy,
    /// Seconds between periodic syncs.
    SyncInterval,
    /// Ops per push request.
    BatchSize,
    /// The folder notes are mirrored into as Markdown files.
    VaultDir,
    /// Whether closing the window keeps Quire syncing in the tray (where there is a tray).
    KeepInTray,
    /// Days a deleted note stays in the trash before it is deleted forever (0: never).
    TrashDays,
}

impl SettingKey {
    pub const ALL: [SettingKey; 7] = [
        Self::Server,
        Self::ConflictPolicy,
        Self::SyncInterval,
        Self::BatchSize,
        Self::VaultDir,
        Self::KeepInTray,
        Self::TrashDays,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::ConflictPolicy => "conflict-policy",
            Self::SyncInterval => "sync-interval",
            Self::BatchSize => "batch-size",
            Self::VaultDir => "vault-dir",
            Self::KeepInTray => "keep-in-tray",
            Self::TrashDays => "trash-days",
        }
    }

    /// The value in force when none was set; `None` where "not set" is itself the default.
    pub fn default_value(self) -> Option<&'static str> {
        match self {
            Self::ConflictPolicy => Some("merge"),
            Self::SyncInterval => Some("60"),
            Self::BatchSize => Some("1000"),
            Self::KeepInTray => Some("true"),
            Self::TrashDays => Some("30"),
            Self::Server | Self::VaultDir => None,
        }
    }

    /// Checks and normalises a value for this key.
    pub fn parse_value(self, value: &str) -> Result<String, SettingError> {
        let value = value.trim();
        let invalid = |expected: &'static str| SettingError::InvalidValue {
            key: self.name(),
            value: value.to_owned(),
            expected,
        };
        match self {
            Self::Server => normalise_setting(value),
            Self::ConflictPolicy => value
                .parse::<ConflictPolicy>()
                .map(|policy| policy.to_string())
                .map_err(|_| invalid("merge or lww")),
            Self::SyncInterval => match value.parse::<u32>() {
                Ok(secs) if (5..=86_400).contains(&secs) => Ok(secs.to_string()),
                _ => Err(invalid("a number of seconds from 5 to 86400")),
            },
            Self::BatchSize => match value.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(n.to_string()),
                _ => Err(invalid("a number of ops from 1 to 1000")),
            },
            Self::TrashDays => match value.parse::<u32>() {
                Ok(days) if days <= 36_500 => Ok(days.to_string()),
                _ => Err(invalid("a number of days from 0 (never) to 36500")),
            },
            Self::KeepInTray => match value.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" => Ok("true".to_owned()),
                "false" | "off" | "no" => Ok("false".to_owned()),
                _ => Err(invalid("true or false")),
            },
            Self::VaultDir => {
                if value.starts_with('/') || value.get(1..3) == Some(":\\") {
                    Ok(value.to_owned())
                } else {
                    Err(invalid("an absolute folder path"))
                }
            }
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SettingKey {
    type Err = SettingError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|key| key.name() == name)
            .ok_or_else(|| SettingError::UnknownKey(name.to_owned()))
    }
}

/// How a device settles a note both it and the server changed (PRODUCT.md, "Conflicts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ConflictPolicy {
    /// Three-way merge; overlapping changes become a conflict for the person to resolve.
    Merge,
    /// Last write wins by the server's receipt time; the loser is kept in history.
    Lww,
}

impl fmt::Display for ConflictPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Merge => "merge",
            Self::Lww => "lww",
        })
    }
}

impl FromStr for ConflictPolicy {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "merge" => Ok(Self::Merge),
            "lww" => Ok(Self::Lww),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error(
        "{0} is plain http:// to another machine, which would send your password and notes \
         unencrypted; use https://, or sign in with --insecure-http if you really mean it"
    )]
    InsecureHttp(String),
    #[error(
        "a server URL cannot contain @ (a user name or password before the host would be sent \
         along); give just the address, e.g. https://sync.example.com, and sign in with your \
         user name and password"
    )]
    CredentialsInServerUrl,
    #[error("unknown setting {0:?}; the settings are server, conflict-policy, sync-interval, batch-size, vault-dir")]
    UnknownKey(String),
    #[error("{value:?} is not a valid {key}: expected {expected}")]
    InvalidValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_from_its_name() {
        for key in SettingKey::ALL {
            assert_eq!(key.name().parse::<SettingKey>().unwrap(), key);
        }
        assert!(matches!(
            "colour".parse::<SettingKey>(),
            Err(SettingError::UnknownKey(_))
        ));
    }

    #[test]
    fn defaults_are_themselves_valid() {
        for key in SettingKey::ALL {
            if let Some(value) = key.default_value() {
                assert_eq!(key.parse_value(value).unwrap(), value, "{key}");
            }
        }
    }

    #[test]
    fn values_are_checked_and_normalised() {
        use SettingKey::*;
        let good = [
            (
                Server,
                "https://notes.example.com/",
                "https://notes.example.com",
            ),
            (Server, " http://127.0.0.1:8787 ", "http://127.0.0.1:8787"),
            (ConflictPolicy, "lww", "lww"),
            (SyncInterval, "300", "300"),
            (BatchSize, "1", "1"),
            (TrashDays, " 7 ", "7"),
            (TrashDays, "0", "0"),
            (VaultDir, "/home/me/notes", "/home/me/notes"),
            (KeepInTray, "Off", "false"),
            (KeepInTray, "yes", "true"),
        ];
        for (key, input, expected) in good {
            assert_eq!(key.parse_value(input).unwrap(), expected, "{key} {input}");
        }
        let bad = [
            (Server, "notes.example.com"),
            (Server, "https://"),
            (Server, "ftp://x"),
            (ConflictPolicy, "ours"),
            (SyncInterval, "1"),
            (SyncInterval, "soon"),
            (BatchSize, "0"),
            (BatchSize, "5000"),
            (TrashDays, "-1"),
            (TrashDays, "36501"),
            (VaultDir, "notes"),
            (KeepInTray, "maybe"),
        ];
        for (key, input) in bad {
            let err = key.parse_value(input).unwrap_err();
            assert!(err.to_string().contains("expected"), "{key} {input}: {err}");
        }
    }
}
