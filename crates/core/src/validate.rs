//! Limits on what a person types. Checked before anything is stored, so a bad value is a
//! clear error at the keyboard rather than a rejected op later.

use crate::note::NoteFields;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_title_bytes: usize,
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_title_bytes: 1024,
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("the title is empty; give the note a title")]
    EmptyTitle,
    #[error("the title is {len} bytes long; the limit is {max}")]
    TitleTooLong { len: usize, max: usize },
    #[error("the title must be a single line")]
    TitleHasLineBreak,
    #[error("the note is {len} bytes long; the limit is {max}")]
    BodyTooLong { len: usize, max: usize },
    #[error("the {field} contains a NUL character, which a text note cannot hold")]
    ContainsNul { field: &'static str },
    #[error("the text is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },
}

/// Turns bytes from a file or stdin into text, or says where they stop being UTF-8.
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, ValidationError> {
    String::from_utf8(bytes).map_err(|err| ValidationError::NotUtf8 {
        valid_up_to: err.utf8_error().valid_up_to(),
    })
}

/// Normalises and checks a note's fields: the title is trimmed; both must fit the limits.
pub fn validate_fields(fields: NoteFields, limits: &Limits) -> Result<NoteFields, ValidationError> {
    let title = fields.title.trim().to_owned();
    if title.is_empty() {
        return Err(ValidationError::EmptyTitle);
    }
    if title.len() > limits.max_title_bytes {
        return Err(ValidationError::TitleTooLong {
            len: title.len(),
            max: limits.max_title_bytes,
        });
    }
    if title.contains(['\n', '\r']) {
        return Err(ValidationError::TitleHasLineBreak);
    }
    if title.contains('\0') {
        return Err(ValidationError::ContainsNul { field: "title" });
    }
    if fields.body.len() > limits.max_body_bytes {
        return Err(ValidationError::BodyTooLong {
            len: fields.body.len(),
            max: limits.max_body_bytes,
        });
    }
    if fields.body.contains('\0') {
        return Err(ValidationError::ContainsNul { field: "note" });
    }
    Ok(NoteFields {
        title,
        body: fields.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normal_note_passes_with_its_title_trimmed() {
        let ok = validate_fields(
            NoteFields::new("  Groceries \t", "- milk\n"),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(ok, NoteFields::new("Groceries", "- milk\n"));
    }

    #[test]
    fn each_bad_shape_has_its_own_error() {
        let limits = Limits {
            max_title_bytes: 5,
            max_body_bytes: 10,
        };
        let cases = [
            (NoteFields::new("   ", ""), ValidationError::EmptyTitle),
            (
                NoteFields::new("toolong", ""),
                ValidationError::TitleTooLong { len: 7, max: 5 },
            ),
            (
                NoteFields::new("a\nb", ""),
                ValidationError::TitleHasLineBreak,
            ),
            (
                NoteFields::new("a\0", ""),
                ValidationError::ContainsNul { field: "title" },
            ),
            (
                NoteFields::new("a", "0123456789x"),
                ValidationError::BodyTooLong { len: 11, max: 10 },
            ),
            (
                NoteFields::new("a", "x\0y"),
                ValidationError::ContainsNul { field: "note" },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                validate_fields(input.clone(), &limits),
                Err(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn limits_count_bytes_not_characters() {
        let limits = Limits {
            max_title_bytes: 4,
            max_body_bytes: 4,
        };
        // "é" is two bytes in UTF-8.
        assert!(validate_fields(NoteFields::new("éé", "éé"), &limits).is_ok());
        assert!(validate_fields(NoteFields::new("ééé", ""), &limits).is_err());
    }

    #[test]
    fn invalid_utf8_says_where() {
        let err = text_from_bytes(b"ok \xff bad".to_vec()).unwrap_err();
        assert_eq!(err, ValidationError::NotUtf8 { valid_up_to: 3 });
        assert_eq!(text_from_bytes(b"fine".to_vec()).unwrap(), "fine");
    }
}
