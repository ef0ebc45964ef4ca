//! Ops: the outbox entries that carry local changes to the server, in order.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::ids::{DeviceId, NoteId, OpId, Version};
use crate::note::NoteFields;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// An op kind's name that is none of [`OpKind::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an op kind")]
pub struct UnknownOpKind;

impl std::str::FromStr for OpKind {
    type Err = UnknownOpKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Self::Create, Self::Update, Self::Delete]
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or(UnknownOpKind)
    }
}

/// What an op changes. Create and update carry the note's full new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[ts(export)]
pub enum OpPayload {
    Create(NoteFields),
    Update(NoteFields),
    Delete,
}

impl OpPayload {
    pub fn kind(&self) -> OpKind {
        match self {
            Self::Create(_) => OpKind::Create,
            Self::Update(_) => OpKind::Update,
            Self::Delete => OpKind::Delete,
        }
    }

    pub fn fields(&self) -> Option<&NoteFields> {
        match self {
            Self::Create(fields) | Self::Update(fields) => Some(fields),
            Self::Delete => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Op {
    pub op_id: OpId,
    pub note_id: NoteId,
    pub payload: OpPayload,
    /// The server version this change was made on top of; `None` for a note the server
    /// has not seen yet.
    #[ts(optional = nullable)]
    pub base_version: Option<Version>,
    pub device_id: DeviceId,
    /// The device's logical clock when the change was made: strictly increasing per device.
    pub clock: u64,
}

/// Folds `next` into `pending` when both are unsent changes to the same note and the result
/// replays to the same note as applying both: create+update is a create with the new text,
/// update+update is an update with the new text on the first one's base. The folded op keeps
/// `pending`'s base (it takes its place in the queue) and takes `next`'s id and clock: an
/// unsent op was never on the wire, so its id is free to change, and a new text under a
/// new id can never be mistaken for a replay of the old one (a copied data dir holds the
/// same unsent ops as the original).
///
/// Deletes are never folded: a delete's order relative to other ops is what the server
/// must see.
pub fn coalesce(pending: &Op, next: &Op) -> Option<Op> {
    if pending.note_id != next.note_id || pending.device_id != next.device_id {
        return None;
    }
    let payload = match (&pending.payload, &next.payload) {
        (OpPayload::Create(_), OpPayload::Update(fields)) => OpPayload::Create(fields.clone()),
        (OpPayload::Update(_), OpPayload::Update(fields)) => OpPayload::Update(fields.clone()),
        _ => return None,
    };
    Some(Op {
        op_id: next.op_id,
        note_id: pending.note_id,
        payload,
        base_version: pending.base_version,
        device_id: pending.device_id,
        clock: next.clock,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn op(n: u128, note: u128, payload: OpPayload, base: Option<u64>, clock: u64) -> Op {
        Op {
            op_id: OpId(Uuid::from_u128(n)),
            note_id: NoteId(Uuid::from_u128(note)),
            payload,
            base_version: base.map(Version),
            device_id: DeviceId(Uuid::from_u128(99)),
            clock,
        }
    }

    #[test]
    fn op_kinds_read_back_from_their_names_and_nothing_else() {
        for kind in [OpKind::Create, OpKind::Update, OpKind::Delete] {
            assert_eq!(kind.as_str().parse::<OpKind>(), Ok(kind));
        }
        for name in ["", "Create", "purge", "create "] {
            assert_eq!(name.parse::<OpKind>(), Err(UnknownOpKind), "{name:?}");
        }
    }

    /// The note text a sequence of ops leaves behind (`None`: deleted or never created).
    fn replay(ops: &[Op]) -> Option<NoteFields> {
        ops.iter().fold(None, |_, op| op.payload.fields().cloned())
    }

    #[test]
    fn create_then_update_is_one_create_with_the_new_text() {
        let create = op(1, 7, OpPayload::Create(NoteFields::new("a", "1")), None, 1);
        let update = op(2, 7, OpPayload::Update(NoteFields::new("a", "2")), None, 2);
        let folded = coalesce(&create, &update).unwrap();
        assert_eq!(folded.op_id, update.op_id, "a new text, a new id");
        assert_eq!(folded.payload, OpPayload::Create(NoteFields::new("a", "2")));
        assert_eq!(folded.clock, 2);
    }

    #[test]
    fn update_then_update_keeps_the_first_base() {
        let first = op(
            1,
            7,
            OpPayload::Update(NoteFields::new("a", "1")),
            Some(4),
            5,
        );
        let second = op(
            2,
            7,
            OpPayload::Update(NoteFields::new("b", "2")),
            Some(4),
            6,
        );
        let folded = coalesce(&first, &second).unwrap();
        assert_eq!(folded.base_version, Some(Version(4)));
        assert_eq!(folded.payload, OpPayload::Update(NoteFields::new("b", "2")));
    }

    #[test]
    fn deletes_and_other_notes_are_never_folded() {
        let update = op(
            1,
            7,
            OpPayload::Update(NoteFields::new("a", "1")),
            Some(1),
            1,
        );
        let delete = op(2, 7, OpPayload::Delete, Some(1), 2);
        let other = op(
            3,
            8,
            OpPayload::Update(NoteFields::new("a", "1")),
            Some(1),
            3,
        );
        let create = op(4, 7, OpPayload::Create(NoteFields::new("a", "1")), None, 4);
        assert!(coalesce(&update, &delete).is_none());
        assert!(coalesce(&delete, &update).is_none());
        assert!(coalesce(&update, &other).is_none());
        assert!(coalesce(&update, &create).is_none());
    }

    fn payload_strategy() -> impl Strategy<Value = OpPayload> {
        prop_oneof![
            ("[a-z]{0,3}", "[a-z]{0,3}")
                .prop_map(|(t, b)| OpPayload::Create(NoteFields::new(&t, &b))),
            ("[a-z]{0,3}", "[a-z]{0,3}")
                .prop_map(|(t, b)| OpPayload::Update(NoteFields::new(&t, &b))),
            Just(OpPayload::Delete),
        ]
    }

    proptest! {
        /// Folding every foldable neighbour leaves a queue that replays to the same note.
        #[test]
        fn coalescing_never_changes_what_the_queue_replays_to(
            payloads in proptest::collection::vec(payload_strategy(), 0..20)
        ) {
            let ops: Vec<Op> = payloads
                .into_iter()
                .enumerate()
                .map(|(i, p)| op(i as u128, 7, p, None, i as u64))
                .collect();
            let mut queue: Vec<Op> = Vec::new();
            for next in &ops {
                match queue.last().and_then(|last| coalesce(last, next)) {
                    Some(folded) => *queue.last_mut().unwrap() = folded,
                    None => queue.push(next.clone()),
                }
            }
            prop_assert!(queue.len() <= ops.len());
            prop_assert_eq!(replay(&queue), replay(&ops));
            // Clocks stay strictly increasing through the folded queue.
            prop_assert!(queue.windows(2).all(|w| w[0].clock < w[1].clock));
        }
    }
}
