//! Differential sync: an update can carry an edit script against the text at its base
//! version instead of the whole new text (PRODUCT.md, "Differential sync").
//!
//! Offsets count UTF-8 bytes. A patch must account for every byte of its base (kept or
//! deleted), which catches most patches sent against a text they were not made from.

use serde::{Deserialize, Serialize};

/// One step of a patch, applied left to right over the base text. On the wire, an object
/// with exactly one key: `{"keep": N}`, `{"delete": N}` or `{"insert": TEXT}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edit {
    /// Copy this many bytes of the base.
    Keep(#[serde(deserialize_with = "crate::ids::deserialize_count_usize")] usize),
    /// Skip this many bytes of the base.
    Delete(#[serde(deserialize_with = "crate::ids::deserialize_count_usize")] usize),
    /// Add this text.
    Insert(String),
}

/// Written out by hand: the derived schema neither bounds the counts nor says that an edit
/// has exactly one key, and serde refuses any other.
impl utoipa::PartialSchema for Edit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        let one_key = |key: &str, description: &str, value: ObjectBuilder| {
            ObjectBuilder::new()
                .description(Some(description))
                .property(key, value)
                .required(key)
                .additional_properties(Some(
                    AdditionalProperties::<utoipa::openapi::schema::Schema>::FreeForm(false),
                ))
        };
        let count = crate::ids::count_schema;
        OneOfBuilder::new()
            .description(Some(
                "One step of a patch, applied left to right over the base text.",
            ))
            .item(one_key(
                "keep",
                "Copy this many bytes of the base.",
                count(),
            ))
            .item(one_key(
                "delete",
                "Skip this many bytes of the base.",
                count(),
            ))
            .item(one_key(
                "insert",
                "Add this text.",
                ObjectBuilder::new().schema_type(Type::String),
            ))
            .into()
    }
}

impl utoipa::ToSchema for Edit {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Patch(pub Vec<Edit>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("the patch runs past the end of its base text ({base_len} bytes)")]
    PastEnd { base_len: usize },
    #[error("the patch covers {covered} bytes of a base text of {base_len}")]
    WrongBaseLength { covered: usize, base_len: usize },
    #[error("the patch splits a UTF-8 character at byte {offset}")]
    SplitsCharacter { offset: usize },
}

impl Patch {
    /// The patch that turns `old` into `new`: a line diff (with `similar`), so a one-line
    /// edit of a long note costs that line plus a few numbers.
    pub fn between(old: &str, new: &str) -> Self {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        let bytes = |lines: &[&str]| lines.iter().map(|l| l.len()).sum::<usize>();
        let mut edits: Vec<Edit> = Vec::new();
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines) {
            let (old_range, new_range) = (op.old_range(), op.new_range());
            match op {
                similar::DiffOp::Equal { .. } => {
                    push(&mut edits, Edit::Keep(bytes(&old_lines[old_range])));
                }
                similar::DiffOp::Delete { .. } => {
                    push(&mut edits, Edit::Delete(bytes(&old_lines[old_range])));
                }
                similar::DiffOp::Insert { .. } => {
                    push(&mut edits, Edit::Insert(new_lines[new_range].concat()));
                }
                similar::DiffOp::Replace { .. } => {
                    push(&mut edits, Edit::Delete(bytes(&old_lines[old_range])));
                    push(&mut edits, Edit::Insert(new_lines[new_range].concat()));
                }
            }
        }
        Self(edits)
    }

    /// The text this patch makes of `base`.
    pub fn apply(&self, base: &str) -> Result<String, PatchError> {
        let mut out = String::with_capacity(base.len());
        let mut at = 0usize;
        let past_end = PatchError::PastEnd {
            base_len: base.len(),
        };
        for edit in &self.0 {
            match edit {
                Edit::Keep(n) | Edit::Delete(n) => {
                    let end = at.checked_add(*n).ok_or_else(|| past_end.clone())?;
                    let piece = base.get(at..end).ok_or_else(|| {
                        if end > base.len() {
                            past_end.clone()
                        } else {
                            PatchError::SplitsCharacter { offset: end }
                        }
                    })?;
                    if matches!(edit, Edit::Keep(_)) {
                        out.push_str(piece);
                    }
                    at = end;
                }
                Edit::Insert(text) => out.push_str(text),
            }
        }
        if at != base.len() {
            return Err(PatchError::WrongBaseLength {
                covered: at,
                base_len: base.len(),
            });
        }
        Ok(out)
    }

    /// Bytes of the text this patch makes (kept plus inserted), or `None` past `usize`:
    /// known before applying it, so a server can refuse a patch that would make a text
    /// over its limit without building it.
    pub fn output_len(&self) -> Option<usize> {
        self.0.iter().try_fold(0usize, |len, edit| match edit {
            Edit::Keep(n) => len.checked_add(*n),
            Edit::Insert(text) => len.checked_add(text.len()),
            Edit::Delete(_) => Some(len),
        })
    }

    /// Bytes this patch adds to a request, roughly: what it costs on the wire.
    pub fn inserted_bytes(&self) -> usize {
        self.0
            .iter()
            .map(|edit| match edit {
                Edit::Insert(text) => text.len(),
                Edit::Keep(_) | Edit::Delete(_) => 0,
            })
            .sum()
    }
}

/// Appends an edit, folding it into the last one when they are of a kind.
fn push(edits: &mut Vec<Edit>, edit: Edit) {
    match (edits.last_mut(), edit) {
        (_, Edit::Keep(0) | Edit::Delete(0)) => {}
        (Some(Edit::Keep(n)), Edit::Keep(m)) | (Some(Edit::Delete(n)), Edit::Delete(m)) => *n += m,
        (Some(Edit::Insert(text)), Edit::Insert(more)) => text.push_str(&more),
        (_, edit) => edits.push(edit),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_patch_between_two_texts_turns_one_into_the_other(
            old in "(?s)[ab\n é]{0,40}",
            new in "(?s)[ab\n é]{0,40}",
        ) {
            prop_assert_eq!(Patch::between(&old, &new).apply(&old).unwrap(), new);
        }
    }

    #[test]
    fn a_one_line_edit_of_a_megabyte_note_is_a_small_patch() {
        let old: String = (0..26_000)
            .map(|n| format!("line {n:05} of a long note, padded out.\n"))
            .collect();
        assert!(old.len() >= 1_000_000, "{} bytes", old.len());
        let new = old.replacen(
            "line 10000 of a long note",
            "line 10000 of an edited note",
            1,
        );
        let patch = Patch::between(&old, &new);
        assert_eq!(patch.apply(&old).unwrap(), new);
        let wire = serde_json::to_vec(&patch).unwrap();
        assert!(
            wire.len() < 200,
            "{} bytes: {}",
            wire.len(),
            String::from_utf8_lossy(&wire)
        );
    }

    #[test]
    fn a_patch_rewrites_its_base() {
        let patch = Patch(vec![
            Edit::Keep(6),
            Edit::Delete(5),
            Edit::Insert("there".into()),
            Edit::Keep(1),
        ]);
        assert_eq!(patch.apply("hello world!").unwrap(), "hello there!");
        assert_eq!(patch.inserted_bytes(), 5);
        assert_eq!(patch.output_len(), Some("hello there!".len()));
        let huge = Patch(vec![Edit::Keep(usize::MAX), Edit::Insert("x".into())]);
        assert_eq!(huge.output_len(), None);
    }

    #[test]
    fn a_patch_for_another_text_is_refused() {
        let patch = Patch(vec![Edit::Keep(3), Edit::Insert("!".into())]);
        assert_eq!(
            patch.apply("abcd"),
            Err(PatchError::WrongBaseLength {
                covered: 3,
                base_len: 4
            })
        );
        assert_eq!(patch.apply("ab"), Err(PatchError::PastEnd { base_len: 2 }));
        let huge = Patch(vec![Edit::Keep(1), Edit::Keep(usize::MAX)]);
        assert_eq!(huge.apply("ab"), Err(PatchError::PastEnd { base_len: 2 }));
    }

    #[test]
    fn a_patch_may_not_split_a_character() {
        let patch = Patch(vec![Edit::Keep(1), Edit::Delete(2)]);
        assert_eq!(
            patch.apply("é!"),
            Err(PatchError::SplitsCharacter { offset: 1 })
        );
    }

    #[test]
    fn patches_have_a_compact_json_form() {
        let patch = Patch(vec![
            Edit::Keep(3),
            Edit::Insert("x".into()),
            Edit::Delete(1),
        ]);
        let json = serde_json::to_string(&patch).unwrap();
        assert_eq!(json, r#"[{"keep":3},{"insert":"x"},{"delete":1}]"#);
        assert_eq!(serde_json::from_str::<Patch>(&json).unwrap(), patch);
    }
}
