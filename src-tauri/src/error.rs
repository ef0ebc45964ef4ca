//! Errors as the UI sees them: a stable `code` to switch on and a `message` to show.

use quire_client::ErrorCode;
use serde::Serialize;
use ts_rs::TS;

/// What a failed command sends to the UI. The UI switches on `code`, never on `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

/// The IPC boundary: every failed command passes here on its way to the window, so this is
/// where it is logged, once, with its code.
impl From<quire_client::Error> for CommandError {
    fn from(err: quire_client::Error) -> Self {
        let code = err.code();
        tracing::warn!(?code, "a command failed: {err}");
        Self {
            code,
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_cross_as_code_and_readable_message() {
        let err = CommandError::from(quire_client::Error::NoDataDir);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "data_dir");
        assert!(json["message"].as_str().unwrap().contains("QUIRE_DATA_DIR"));
    }
}
