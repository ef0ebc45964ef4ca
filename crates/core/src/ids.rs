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

/// The largest count the protocol carries (versions, clocks, cursors, patch offsets):
/// `i64::MAX`, what every store keeps in a signed 64-bit column. Larger numbers are refused
/// when read, as the OpenAPI document says (`format: int64`, `minimum: 0`).
pub const MAX_WIRE_COUNT: u64 = i64::MAX as u64;

/// A count read from the wire, refused past [`MAX_WIRE_COUNT`]; for `deserialize_with`.
/// A number written with a fraction of zero (`3.0`, `1e3`) is an integer to JSON Schema,
/// which the document speaks, so it is read as one; any other fraction is refused.
pub fn deserialize_count<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<u64, D::Error> {
    deserializer.deserialize_any(CountVisitor)
}

struct CountVisitor;

impl CountVisitor {
    fn out_of_range<E: serde::de::Error>(shown: impl fmt::Display) -> E {
        E::custom(format_args!(
            "{shown} is out of range (0 to {MAX_WIRE_COUNT})"
        ))
    }
}

impl serde::de::Visitor<'_> for CountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer from 0 to {MAX_WIRE_COUNT}")
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u64, E> {
        if value > MAX_WIRE_COUNT {
            return Err(Self::out_of_range(value));
        }
        Ok(value)
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| Self::out_of_range(value))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<u64, E> {
        if value.fract() != 0.0 {
            return Err(E::invalid_type(serde::de::Unexpected::Float(value), &self));
        }
        // 2^63 is the first float past the range; every float below it that has no
        // fraction is an exact integer.
        if !(0.0..9_223_372_036_854_775_808.0).contains(&value) {
            return Err(Self::out_of_range(value));
        }
        Ok(value as u64)
    }
}

/// [`deserialize_count`] for a `usize`.
pub fn deserialize_count_usize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<usize, D::Error> {
    let count = deserialize_count(deserializer)?;
    usize::try_from(count).map_err(|_| {
        serde::de::Error::custom(format_args!("{count} is out of range on this machine"))
    })
}

/// [`deserialize_count`] for a `u32`.
pub fn deserialize_count_u32<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    let count = deserialize_count(deserializer)?;
    u32::try_from(count).map_err(|_| {
        serde::de::Error::custom(format_args!("{count} is out of range (0 to {})", u32::MAX))
    })
}

/// The schema of a count: an integer from 0 to [`MAX_WIRE_COUNT`]. (utoipa's derive cannot
/// put a `maximum` on a newtype or an enum variant's field, so those schemas are written
/// out with this.)
pub fn count_schema() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(MAX_WIRE_COUNT))
}

/// The server's version of a note: 1 after its creation, one more for each applied change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[ts(export, type = "number")]
pub struct Version(pub u64);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_count(deserializer).map(Self)
    }
}

impl utoipa::PartialSchema for Version {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        count_schema()
            .description(Some(
                "The server's version of a note: 1 after its creation, one more for each applied change.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Version {}

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
    fn counts_past_i64_are_refused() {
        let max: Version = serde_json::from_str("9223372036854775807").unwrap();
        assert_eq!(max, Version(MAX_WIRE_COUNT));
        for bad in [
            "9223372036854775808",
            "18446744073709551615",
            "-1",
            "1.5",
            "9223372036854775808.0",
            "-0.5",
            "\"3\"",
            "null",
        ] {
            assert!(serde_json::from_str::<Version>(bad).is_err(), "{bad}");
        }
        // JSON Schema's integers: a zero fraction is still an integer. (The last one
        // read as ...478.5 before serde_json parsed floats exactly: schemathesis found it.)
        for (text, count) in [
            ("3.0", 3),
            ("1e3", 1000),
            ("-0.0", 0),
            ("3710568038284478.0", 3_710_568_038_284_478),
        ] {
            assert_eq!(
                serde_json::from_str::<Version>(text).unwrap(),
                Version(count)
            );
        }
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
