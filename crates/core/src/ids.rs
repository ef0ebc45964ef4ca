//! Identifiers. Clients make note and op ids (UUIDv7, so they sort by creation time); the
//! server assigns versions. Generating ids needs a clock and randomness, so it lives in the
//! client crate; here they are only typed, parsed and printed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, utoipa::ToSchema)]
        #[ts(export, type = "string")]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text.trim())
                    .map($name)
                    .map_err(|_| InvalidId { what: $what, text: text.to_owned() })
            }
        }
    };
}

uuid_id!(
    /// A note's identity, the same on every device and the server.
    NoteId, "note id"
);
uuid_id!(
    /// An op's identity; the server uses it to make pushes idempotent.
    OpId, "op id"
);
uuid_id!(
    /// One installation of Quire (one data dir).
    DeviceId, "device id"
);

/// A text that is not a well-formed id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a valid {what} (expected a UUID such as 0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10)"
)]
pub struct InvalidId {
    pub what: &'static str,
    pub text: String,
}

/// The server's version of a note: 1 after its creation, one more for each applied change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    TS,
    utoipa::ToSchema,
)]
#[ts(export, type = "number")]
#[schema(value_type = u64)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = NoteId(Uuid::from_u128(0x0190_b5a4_7c1e_7c3a_9a52_3f4f_2b7c_1d10));
        assert_eq!(id.to_string().parse::<NoteId>().unwrap(), id);
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let id: OpId = " 0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10\n".parse().unwrap();
        assert_eq!(id.to_string(), "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = "nope".parse::<NoteId>().unwrap_err();
        assert_eq!(err.what, "note id");
        assert!(err
            .to_string()
            .starts_with("\"nope\" is not a valid note id"));
    }
}
