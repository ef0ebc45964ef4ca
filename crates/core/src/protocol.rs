//! Wire types of the sync protocol. Both the server (which produces them) and the client
//! (which consumes them) use these, so the two cannot drift apart.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The path prefix every protocol endpoint lives under.
pub const API_PREFIX: &str = "/v1";

/// Answer of `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Health {
    /// Always `"ok"` when the server can answer at all.
    pub status: HealthStatus,
    /// The server's own version (its crate version), to tell client and server builds apart.
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum HealthStatus {
    Ok,
}

impl Health {
    pub fn ok(version: impl Into<String>) -> Self {
        Self {
            status: HealthStatus::Ok,
            version: version.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_has_a_stable_json_shape() {
        let json = serde_json::to_value(Health::ok("1.2.3")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status": "ok", "version": "1.2.3"})
        );
    }

    #[test]
    fn unknown_health_status_is_refused() {
        let parsed: Result<Health, _> =
            serde_json::from_str(r#"{"status":"degraded","version":"1"}"#);
        assert!(parsed.is_err());
    }
}
