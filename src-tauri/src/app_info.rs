//! The installation's facts the window shows.

use serde::Serialize;
use ts_rs::TS;

/// What the status line and the About box show about this installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    /// The app's version (the workspace version).
    pub version: String,
    /// The licence the app is distributed under.
    pub license: String,
    /// Where this device keeps its notes, as resolved by quire-client.
    pub data_dir: String,
    /// Where the app writes its logs (to attach to a bug report).
    pub log_dir: String,
    /// A sync server to offer on first run (`make run` starts one and sets
    /// QUIRE_SUGGESTED_SERVER).
    pub suggested_server: Option<String>,
}

impl AppInfo {
    pub fn gather() -> quire_client::Result<Self> {
        let data_dir = quire_client::paths::data_dir(None)?;
        Ok(Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            license: env!("CARGO_PKG_LICENSE").to_owned(),
            log_dir: data_dir.join(crate::logging::LOG_DIR).display().to_string(),
            data_dir: data_dir.display().to_string(),
            suggested_server: std::env::var("QUIRE_SUGGESTED_SERVER")
                .ok()
                .filter(|url| !url.is_empty()),
        })
    }
}
