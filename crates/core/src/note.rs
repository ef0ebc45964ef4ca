//! A note as a device keeps it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::ids::{NoteId, Version};

/// Milliseconds since the Unix epoch (UTC).
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
#[schema(value_type = i64)]
pub struct Millis(pub i64);

impl Millis {
    /// The time as UTC in ISO 8601, to the second: `2026-11-25T09:10:03Z`.
    pub fn to_utc_string(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day): the standard
/// era-based conversion (eras of 400 years, years starting in March).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// What a person writes: the parts of a note an op carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NoteFields {
    pub title: String,
    /// Markdown text.
    pub body: String,
}

impl NoteFields {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Note {
    pub id: NoteId,
    pub title: String,
    /// Markdown text.
    pub body: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// A tombstone: deleted notes are kept so the deletion can sync.
    pub deleted: bool,
    /// The server's version this note was last synced at; `None` until the server has it.
    #[ts(optional = nullable)]
    pub version: Option<Version>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_utc() {
        assert_eq!(Millis(0).to_utc_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Millis(951_782_400_000).to_utc_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Millis(1_795_597_803_999).to_utc_string(),
            "2026-11-25T09:10:03Z"
        );
        assert_eq!(Millis(-1000).to_utc_string(), "1969-12-31T23:59:59Z");
    }
}
