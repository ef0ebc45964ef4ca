//! What the conflict center shows: the merge of both sides as a list of parts, where the
//! parts both sides disagree on carry each side's text with the words that differ marked.
//! Computed here (with `similar`), so the UI only draws.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::merge::{merge3, Hunk};

/// A run of text, marked when it differs from the other side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Span {
    pub text: String,
    pub changed: bool,
}

/// One part of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Part {
    /// Lines both sides agree on, or that only one side changed (merged already).
    Merged { text: String },
    /// Lines both sides changed differently: the person decides.
    Conflict {
        /// The lines before either change.
        base: String,
        mine: String,
        theirs: String,
        /// `mine` split into runs, marked where it differs from `theirs`.
        #[serde(rename = "mineSpans")]
        mine_spans: Vec<Span>,
        /// `theirs` split into runs, marked where it differs from `mine`.
        #[serde(rename = "theirsSpans")]
        theirs_spans: Vec<Span>,
    },
}

/// The parts of `mine` and `theirs`, two edits of `base`.
pub fn side_by_side(base: &str, mine: &str, theirs: &str) -> Vec<Part> {
    merge3(base, mine, theirs)
        .hunks
        .into_iter()
        .map(|hunk| match hunk {
            Hunk::Resolved(text) => Part::Merged { text },
            Hunk::Conflict { base, ours, theirs } => {
                let (mine_spans, theirs_spans) = word_spans(&ours, &theirs);
                Part::Conflict {
                    base,
                    mine: ours,
                    theirs,
                    mine_spans,
                    theirs_spans,
                }
            }
        })
        .collect()
}

/// Two texts of one note side by side (History: a version, `old`, and the note now):
/// the lines they share as merged parts, and each run of lines that differs as a part with
/// both sides, the words that differ marked. `base` is empty: neither came from the other.
pub fn compare(old: &str, new: &str) -> Vec<Part> {
    let diff = TextDiff::from_lines(old, new);
    let mut parts: Vec<Part> = Vec::new();
    let (mut left, mut right) = (String::new(), String::new());
    let flush = |parts: &mut Vec<Part>, left: &mut String, right: &mut String| {
        if left.is_empty() && right.is_empty() {
            return;
        }
        let (mine_spans, theirs_spans) = word_spans(left, right);
        parts.push(Part::Conflict {
            base: String::new(),
            mine: std::mem::take(left),
            theirs: std::mem::take(right),
            mine_spans,
            theirs_spans,
        });
    };
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                flush(&mut parts, &mut left, &mut right);
                match parts.last_mut() {
                    Some(Part::Merged { text }) => text.push_str(change.value()),
                    _ => parts.push(Part::Merged {
                        text: change.value().to_owned(),
                    }),
                }
            }
            ChangeTag::Delete => left.push_str(change.value()),
            ChangeTag::Insert => right.push_str(change.value()),
        }
    }
    flush(&mut parts, &mut left, &mut right);
    parts
}

/// Each side as runs of words, marked where the two differ.
fn word_spans(mine: &str, theirs: &str) -> (Vec<Span>, Vec<Span>) {
    let diff = TextDiff::from_words(mine, theirs);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut left, text, false);
                push(&mut right, text, false);
            }
            ChangeTag::Delete => push(&mut left, text, true),
            ChangeTag::Insert => push(&mut right, text, true),
        }
    }
    (left, right)
}

/// Appends to the last run when it has the same mark, so runs stay few.
fn push(spans: &mut Vec<Span>, text: &str, changed: bool) {
    match spans.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => spans.push(Span {
            text: text.to_owned(),
            changed,
        }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn joined(spans: &[Span]) -> String {
        spans.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn a_version_and_the_note_now_show_shared_lines_once_and_each_change_with_both_sides() {
        let parts = compare(
            "title\nwe meet on monday\nbring bread\nend\n",
            "title\nwe meet on tuesday\nend\nnew line\n",
        );
        let kinds: Vec<&str> = parts
            .iter()
            .map(|p| match p {
                Part::Merged { .. } => "same",
                Part::Conflict { .. } => "changed",
            })
            .collect();
        assert_eq!(kinds, ["same", "changed", "same", "changed"]);
        let Part::Conflict {
            mine,
            theirs,
            mine_spans,
            theirs_spans,
            ..
        } = &parts[1]
        else {
            panic!("{parts:?}")
        };
        assert_eq!(mine, "we meet on monday\nbring bread\n");
        assert_eq!(theirs, "we meet on tuesday\n");
        assert_eq!(joined(mine_spans), *mine);
        assert!(theirs_spans
            .iter()
            .any(|s| s.changed && s.text.contains("tuesday")));
        let Part::Conflict { mine, theirs, .. } = &parts[3] else {
            panic!("{parts:?}")
        };
        assert_eq!((mine.as_str(), theirs.as_str()), ("", "new line\n"));
        assert_eq!(
            compare("same\n", "same\n"),
            [Part::Merged {
                text: "same\n".into()
            }]
        );
    }

    proptest! {
        #[test]
        fn a_comparison_holds_both_texts_whole(old in "[ab\n]{0,40}", new in "[ab\n]{0,40}") {
            let parts = compare(&old, &new);
            let (mut left, mut right) = (String::new(), String::new());
            for part in &parts {
                match part {
                    Part::Merged { text } => {
                        left.push_str(text);
                        right.push_str(text);
                    }
                    Part::Conflict { mine, theirs, .. } => {
                        left.push_str(mine);
                        right.push_str(theirs);
                    }
                }
            }
            prop_assert_eq!(left, old);
            prop_assert_eq!(right, new);
        }
    }

    #[test]
    fn agreed_lines_are_merged_and_the_words_that_differ_are_marked() {
        let parts = side_by_side(
            "title\nwe meet on monday at noon\nend\n",
            "title\nwe meet on tuesday at noon\nend\n",
            "title\nwe meet on monday at three\nend\n",
        );
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Part::Merged {
                text: "title\n".into()
            }
        );
        let Part::Conflict {
            mine_spans,
            theirs_spans,
            base,
            ..
        } = &parts[1]
        else {
            panic!("expected a conflict: {parts:?}");
        };
        assert_eq!(base, "we meet on monday at noon\n");
        let marked = |spans: &[Span]| -> Vec<String> {
            spans
                .iter()
                .filter(|s| s.changed)
                .map(|s| s.text.clone())
                .collect()
        };
        assert_eq!(marked(mine_spans), ["tuesday", "noon"]);
        assert_eq!(marked(theirs_spans), ["monday", "three"]);
        assert_eq!(
            parts[2],
            Part::Merged {
                text: "end\n".into()
            }
        );
    }

    #[test]
    fn a_clean_merge_is_one_merged_part() {
        let parts = side_by_side("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n");
        assert_eq!(
            parts,
            [Part::Merged {
                text: "A\nb\nC\n".into()
            }]
        );
    }

    proptest! {
        /// The spans are the texts, cut up: nothing is lost or added for display.
        #[test]
        fn spans_join_back_to_each_side(
            base in "[ab \n]{0,40}", mine in "[abc \n]{0,40}", theirs in "[abd \n]{0,40}"
        ) {
            for part in side_by_side(&base, &mine, &theirs) {
                if let Part::Conflict { mine, theirs, mine_spans, theirs_spans, .. } = part {
                    prop_assert_eq!(joined(&mine_spans), mine);
                    prop_assert_eq!(joined(&theirs_spans), theirs);
                }
            }
        }

        /// Taking every conflict's "mine" gives mine back when theirs changed nothing else.
        #[test]
        fn merged_parts_plus_one_side_rebuild_that_side_when_the_other_is_the_base(
            base in "[ab\n]{0,30}", mine in "[abc\n]{0,30}"
        ) {
            let text: String = side_by_side(&base, &mine, &base)
                .into_iter()
                .map(|part| match part {
                    Part::Merged { text } => text,
                    Part::Conflict { mine, .. } => mine,
                })
                .collect();
            prop_assert_eq!(text, mine);
        }
    }
}
