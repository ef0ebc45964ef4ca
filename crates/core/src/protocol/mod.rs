//! Wire types of the sync protocol (PRODUCT.md, "Sync protocol"). Both the server (which
//! produces them) and the client (which consumes them) use these, so the two cannot drift.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::ids::{DeviceId, NoteId, OpId, Version};
use crate::note::Millis;
use crate::op::OpKind;
use crate::patch::Patch;
use crate::text_hash::TextHash;

mod digest;
mod history;
mod keys;
mod sealed;
pub use digest::*;
pub use history::*;
pub use keys::*;
pub use sealed::*;

/// The path prefix every protocol endpoint lives under.
pub const API_PREFIX: &str = "/v1";

/// Answer of `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Health {
    /// Always `"ok"` when the server can answer at all.
    pub status: HealthStatus,
    /// The server's own version (its crate version), to tell client and server builds apart.
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
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

/// The rule for a username, as a regular expression: what the server accepts and keys its
/// limits by. (Declared on the schemas below by the same literal.)
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9._@-]{1,64}$";
/// Longest username, in characters (all ASCII, so also bytes).
pub const MAX_USERNAME_CHARS: usize = 64;

/// Whether `name` matches [`USERNAME_PATTERN`]: what the server accepts, and what a device
/// may put into a URL path unescaped.
pub fn is_valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USERNAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}
/// Shortest password a new account may have, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in characters (Unicode scalar values, as JSON Schema's `maxLength`
/// counts them).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Body of `POST /v1/sessions` (and, with a password of at least 8 characters, of
/// `POST /v1/accounts`: see [`NewAccount`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)]
    pub username: String,
    /// At most 1024 characters.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Body of `POST /v1/accounts`. `password` is not the person's password but the auth
/// secret derived from it (docs/e2e-design.md), so the server never learns the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)]
    pub username: String,
    /// The auth secret: 32 bytes as hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]*$", min_length = 64, max_length = 64)]
    pub password: Hex<{ crate::crypto::KEY_BYTES }>,
    pub keys: AccountKeys,
}

/// Answer of `POST /v1/accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    pub username: String,
}

/// Answer of `POST /v1/sessions`: a bearer token for `Authorization: Bearer ...`, and for an
/// end-to-end account its wrapped data key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub token: String,
    pub expires_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<SessionKeys>,
}

/// One op in a push. Create carries `title` and `body`; update carries `title` and either
/// `body` (the full text) or `patch` (against the text at `base_version`); delete carries
/// neither. A wrong combination is not a malformed request but a `rejected` op, so one bad
/// op never fails its batch.
///
/// An update or delete is bound to its exact base: `base_version` and `base_hash`, the
/// [`TextHash`] of the text it was made on. Unless both match the server's note, the op is
/// answered `conflict` (with the server's note) and changes nothing; a last-write-wins op
/// applies anyway, and the text it replaces is kept in the note's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushOp {
    pub op_id: OpId,
    pub note_id: NoteId,
    pub kind: OpKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
    #[serde(default)]
    pub base_version: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<TextHash>,
    pub device_id: DeviceId,
    /// The device's op counter: strictly increasing per device, 0 to 2^63 - 1.
    #[serde(deserialize_with = "crate::ids::deserialize_count")]
    #[schema(maximum = 9_223_372_036_854_775_807_i64)]
    pub clock: u64,
    /// Last write wins: apply whatever the base, the server's receipt time decides.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lww: bool,
    /// An end-to-end account's op carries its text sealed here, and no title, body, patch
    /// or base hash in the clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedText>,
}

/// What a push op asks for, once its shape was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushChange<'a> {
    Create { title: &'a str, body: &'a str },
    Update { title: &'a str, text: NewText<'a> },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewText<'a> {
    Full(&'a str),
    Patch(&'a Patch),
}

/// Why a push op's fields do not make the change its kind asks for. The server answers
/// such an op `rejected` with this as the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpShapeError {
    #[error("a create carries a title and a body, and no patch")]
    Create,
    #[error("an update carries a title and either a body or a patch")]
    Update,
    #[error("a delete carries no title, body or patch")]
    Delete,
}

impl PushOp {
    /// The change this op asks for, or why its fields do not make one.
    pub fn change(&self) -> Result<PushChange<'_>, OpShapeError> {
        let title = self.title.as_deref();
        let body = self.body.as_deref();
        match (self.kind, title, body, &self.patch) {
            (OpKind::Create, Some(title), Some(body), None) => {
                Ok(PushChange::Create { title, body })
            }
            (OpKind::Create, ..) => Err(OpShapeError::Create),
            (OpKind::Update, Some(title), Some(body), None) => Ok(PushChange::Update {
                title,
                text: NewText::Full(body),
            }),
            (OpKind::Update, Some(title), None, Some(patch)) => Ok(PushChange::Update {
                title,
                text: NewText::Patch(patch),
            }),
            (OpKind::Update, ..) => Err(OpShapeError::Update),
            (OpKind::Delete, None, None, None) => Ok(PushChange::Delete),
            (OpKind::Delete, ..) => Err(OpShapeError::Delete),
        }
    }
}

/// Body of `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<PushOp>,
}

/// A note as the server has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoteState {
    pub id: NoteId,
    pub title: String,
    pub body: String,
    pub version: Version,
    pub deleted: bool,
    /// Server time of the change that made this version.
    pub updated_at: Millis,
    /// An end-to-end account's note: its title and body are empty, and its text is this
    /// chain of sealed entries (see `sealed_pull` on the server for which ones are sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Vec<SealedEntry>>,
    /// Deleted forever (on any device): a device deletes its copy, text, history and all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub purged: bool,
}

/// The outcome of one op, in the order the ops were sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PushResult {
    /// The op was applied: the note is now at `version`.
    Applied {
        op_id: OpId,
        version: Version,
        server_time: Millis,
    },
    /// This op id was pushed before: the answer it got then, unchanged.
    Duplicate {
        op_id: OpId,
        #[schema(no_recursion)]
        original: Box<PushResult>,
    },
    /// The op's base is not the note's current text (`base_version` or `base_hash` differ):
    /// nothing changed. `current` is the server's note, sent once per note and version in a
    /// response and only while the response stays under the server's size limit; when it
    /// is missing, fetch `GET /v1/notes/{id}`.
    Conflict {
        op_id: OpId,
        note_id: NoteId,
        /// The note's current version on the server.
        version: Version,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current: Option<NoteState>,
    },
    /// A patch was sent against a base the server cannot apply it to: send the full text.
    NeedFullText {
        op_id: OpId,
        current_version: Version,
    },
    /// Not applied for now, through no fault of the op (the account's storage is full):
    /// keep it queued and send it again later. Nothing else in the batch is affected.
    Deferred { op_id: OpId, reason: String },
    /// The op is invalid and was not applied; nothing else in the batch is affected.
    Rejected { op_id: OpId, reason: String },
}

impl PushResult {
    pub fn op_id(&self) -> OpId {
        match self {
            Self::Applied { op_id, .. }
            | Self::Duplicate { op_id, .. }
            | Self::Conflict { op_id, .. }
            | Self::NeedFullText { op_id, .. }
            | Self::Deferred { op_id, .. }
            | Self::Rejected { op_id, .. } => *op_id,
        }
    }

    /// The version the op made, when it was applied (now, or when first pushed).
    pub fn applied_version(&self) -> Option<Version> {
        match self {
            Self::Applied { version, .. } => Some(*version),
            Self::Duplicate { original, .. } => match **original {
                Self::Applied { version, .. } => Some(version),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Answer of `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

/// One entry of the account's change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// Position in the account's change log; strictly increasing.
    pub seq: u64,
    /// The note as this change left it.
    pub note: NoteState,
}

/// A note's id and version, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoteVersion {
    pub id: NoteId,
    pub version: Version,
}

/// Answer of `GET /v1/sync/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Changes in this page that the asking `device` made itself: without their text (it
    /// has it), so that it can check it really does. A device whose store lacks one of
    /// these was restored from a backup or copied: it must catch up in full.
    #[serde(default)]
    pub own: Vec<NoteVersion>,
    /// Cursor to pass as `since` next time.
    pub next: u64,
    /// Whether more changes are waiting after `next`.
    pub more: bool,
    /// The account's change counter now. A `since` beyond it means the server lost
    /// changes (it was restored from a backup): pull again from 0.
    pub head: u64,
    /// On the last page only: this end-to-end account still has notes in the clear, from
    /// before its upgrade, and the device that upgraded it has not sealed any for a while
    /// (it may be lost). A device holding the data key takes them from
    /// `GET /v1/notes/unsealed` and sends each again, sealed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsealed: bool,
}

/// Answer of `GET /v1/sync/changes/count`: what a pull from `since` would bring, without
/// bringing it (`quire sync --dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeCount {
    /// The account's change counter now.
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub head: u64,
    /// Notes changed after `since` by other devices than the asking one, counted up to
    /// 10,000.
    #[schema(minimum = 0, maximum = 10_000)]
    pub notes: u64,
    /// Whether there are more than were counted.
    pub more: bool,
}

/// Answer of `GET /v1/notes/unsealed`: an upgraded account's notes still in the clear, in
/// order of id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnsealedPage {
    pub notes: Vec<NoteState>,
    /// Whether more follow: ask again with `after` set to the last note's id.
    pub more: bool,
}

/// Stable problem `type`s (RFC 9457) the server answers with.
pub mod problem {
    pub const BAD_REQUEST: &str = "https://quire.app/problems/bad-request";
    pub const UNAUTHORIZED: &str = "https://quire.app/problems/unauthorized";
    pub const NOT_FOUND: &str = "https://quire.app/problems/not-found";
    pub const METHOD_NOT_ALLOWED: &str = "https://quire.app/problems/method-not-allowed";
    pub const TOO_LARGE: &str = "https://quire.app/problems/too-large";
    /// The account's storage is full: nothing was stored; delete or shorten notes.
    pub const QUOTA_EXCEEDED: &str = "https://quire.app/problems/quota-exceeded";
    /// The server is busy (e.g. too many password checks at once): retry after `Retry-After`.
    pub const UNAVAILABLE: &str = "https://quire.app/problems/unavailable";
    pub const CONFLICT: &str = "https://quire.app/problems/conflict";
    /// A password given to confirm a change (not to sign in) is wrong.
    pub const WRONG_PASSWORD: &str = "https://quire.app/problems/wrong-password";
    pub const RATE_LIMITED: &str = "https://quire.app/problems/rate-limited";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "https://quire.app/problems/unsupported-media-type";
    /// The request took longer than the server allows (sending its body included): 408;
    /// send it again (a replayed push is answered as the first time).
    pub const REQUEST_TIMEOUT: &str = "https://quire.app/problems/request-timeout";
    pub const INTERNAL: &str = "https://quire.app/problems/internal";
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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

    #[test]
    fn a_push_op_reads_as_documented() {
        let json = serde_json::json!({
            "op_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10",
            "note_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d11",
            "kind": "update",
            "title": "t",
            "body": "b",
            "base_version": 3,
            "device_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d12",
            "clock": 9
        });
        let op: PushOp = serde_json::from_value(json).unwrap();
        assert_eq!(op.base_version, Some(Version(3)));
        assert!(!op.lww);
        assert_eq!(
            op.change().unwrap(),
            PushChange::Update {
                title: "t",
                text: NewText::Full("b")
            }
        );
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused() {
        let base = serde_json::json!({
            "op_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10",
            "note_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d11",
            "device_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d12",
            "clock": 1
        });
        let mut unknown_kind = base.clone();
        unknown_kind["kind"] = "rename".into();
        assert!(serde_json::from_value::<PushOp>(unknown_kind).is_err());
        let mut extra = base;
        extra["kind"] = "delete".into();
        extra["surprise"] = true.into();
        assert!(serde_json::from_value::<PushOp>(extra).is_err());
    }

    #[test]
    fn wrong_field_combinations_are_reasons_not_parse_errors() {
        let op = |kind: OpKind, title: Option<&str>, body: Option<&str>| PushOp {
            op_id: OpId(uuid::Uuid::nil()),
            note_id: NoteId(uuid::Uuid::nil()),
            kind,
            title: title.map(str::to_owned),
            body: body.map(str::to_owned),
            patch: None,
            base_version: None,
            base_hash: None,
            device_id: DeviceId(uuid::Uuid::nil()),
            clock: 1,
            lww: false,
            sealed: None,
        };
        assert_eq!(
            op(OpKind::Create, Some("t"), None).change(),
            Err(OpShapeError::Create)
        );
        assert_eq!(
            op(OpKind::Update, None, Some("b")).change(),
            Err(OpShapeError::Update)
        );
        assert_eq!(
            op(OpKind::Delete, Some("t"), None).change(),
            Err(OpShapeError::Delete)
        );
        assert_eq!(
            OpShapeError::Delete.to_string(),
            "a delete carries no title, body or patch"
        );
        assert_eq!(
            op(OpKind::Delete, None, None).change().unwrap(),
            PushChange::Delete
        );
    }

    #[test]
    fn results_carry_their_status_tag() {
        let result = PushResult::Rejected {
            op_id: OpId(uuid::Uuid::nil()),
            reason: "no".into(),
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["status"], "rejected");
    }
}
