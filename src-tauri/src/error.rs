//! Errors as the UI sees them: a stable `code` to switch on and a `message` to show.

use serde::Serialize;
use ts_rs::TS;

/// What a failed command sends to the UI. The UI switches on `code`, never on `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The app cannot find or use its data directory.
    DataDir,
}

impl From<quire_client::Error> for CommandError {
    fn from(err: quire_client::Error) -> Self {
        let code = match err {
            quire_client::Error::NoDataDir | quire_client::Error::RelativeDataDir(_) => {
                ErrorCode::DataDir
            }
        };
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
