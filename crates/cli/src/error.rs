use std::path::PathBuf;

use quire_core::settings::SettingKey;
use quire_core::validate::ValidationError;

/// Every way a `quire` command can fail; each prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] quire_client::Error),
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    NotText {
        path: PathBuf,
        source: ValidationError,
    },
    #[error("nothing to change: give --title and/or --file")]
    NothingToChange,
    #[error("{0} is not set")]
    SettingNotSet(SettingKey),
    #[error("{0} changes were refused by the server and need attention")]
    NeedsAttention(u64),
    #[error("{0} files in the vault folder could not be taken in (see above)")]
    VaultProblems(usize),
    #[error("{0} changes wait until you decide their notes' conflicts: quire conflicts list")]
    ConflictsToDecide(u64),
    #[error("this device does not hold what the server holds: {0}")]
    NotVerified(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CliError {
    /// A stable name for `--json` errors, so scripts need not match message text.
    pub fn code(&self) -> String {
        match self {
            Self::Client(err) => serde_json::to_value(err.code())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "store".to_owned()),
            Self::ReadFile { .. } | Self::NotText { .. } | Self::Io(_) => "input".to_owned(),
            Self::NothingToChange => "usage".to_owned(),
            Self::SettingNotSet(_) => "not_set".to_owned(),
            Self::NeedsAttention(_) => "needs_attention".to_owned(),
            Self::VaultProblems(_) => "vault_problems".to_owned(),
            Self::ConflictsToDecide(_) => "conflicts".to_owned(),
            Self::NotVerified(_) => "not_verified".to_owned(),
        }
    }
}
