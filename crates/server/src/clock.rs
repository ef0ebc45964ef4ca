//! The server's clock: every time it stores or compares (sessions, attempts, changes) is
//! read here, in milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

use quire_core::Millis;

pub(crate) fn now() -> Millis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
}
