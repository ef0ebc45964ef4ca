//! Full-text search, the pure half (issue 21): a person's words as an FTS5 query, and a
//! snippet's marked words as runs the UI draws without HTML. The store runs the query.
//!
//! A query is the person's words, never syntax: quotes, `AND`/`OR`/`NOT`/`NEAR`, `*`, `:`,
//! parentheses and stray punctuation are split away exactly as the index's tokenizer
//! (`unicode61`) splits text, and each word goes in double quotes, so nothing typed can be
//! an error. Every word must match; the last also as a prefix, as it may be half typed.

use serde::Serialize;

/// Words a query keeps at most: beyond this, more words narrow nothing a person needs and
/// each costs the index another lookup.
pub const MAX_QUERY_WORDS: usize = 16;

/// Where the index marks a matched word in a snippet (FTS5 `snippet()`'s open and close
/// texts): control characters no note's text is searched for.
pub const MATCH_OPEN: char = '\u{2}';
pub const MATCH_CLOSE: char = '\u{3}';

/// The FTS5 query for what the person typed; `None` when it holds no word at all.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<&str> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect();
    let last = words.len().checked_sub(1)?;
    let mut query = String::with_capacity(typed.len() + 4 * words.len());
    for (at, word) in words.iter().enumerate() {
        if at > 0 {
            query.push(' ');
        }
        query.push('"');
        query.push_str(word);
        query.push('"');
        if at == last {
            query.push('*');
        }
    }
    Some(query)
}

/// A run of a snippet, marked when it is a word the search matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Marked {
    pub text: String,
    pub matched: bool,
}

/// A snippet as the index gave it (matches between [`MATCH_OPEN`] and [`MATCH_CLOSE`]) as
/// runs. Markers left unpaired (a snippet cut inside a match) are dropped.
pub fn marked_runs(snippet: &str) -> Vec<Marked> {
    let mut runs: Vec<Marked> = Vec::new();
    let mut matched = false;
    let mut text = String::new();
    let flush = |runs: &mut Vec<Marked>, text: &mut String, matched: bool| {
        if !text.is_empty() {
            runs.push(Marked {
                text: std::mem::take(text),
                matched,
            });
        }
    };
    for c in snippet.chars() {
        match c {
            MATCH_OPEN if !matched => {
                flush(&mut runs, &mut text, false);
                matched = true;
            }
            MATCH_CLOSE if matched => {
                flush(&mut runs, &mut text, true);
                matched = false;
            }
            MATCH_OPEN | MATCH_CLOSE => {}
            c => text.push(c),
        }
    }
    flush(&mut runs, &mut text, matched);
    runs
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn words_are_quoted_all_required_and_the_last_is_a_prefix() {
        assert_eq!(
            fts_query("garden plan").as_deref(),
            Some("\"garden\" \"plan\"*")
        );
        assert_eq!(fts_query("  café ").as_deref(), Some("\"café\"*"));
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("\"*()-:^ "), None);
    }

    #[test]
    fn operators_quotes_and_punctuation_are_words_or_nothing() {
        assert_eq!(
            fts_query("\"budget\" AND NOT (tax OR title:x*) NEAR/3").as_deref(),
            Some("\"budget\" \"AND\" \"NOT\" \"tax\" \"OR\" \"title\" \"x\" \"NEAR\" \"3\"*")
        );
        assert_eq!(fts_query("don't").as_deref(), Some("\"don\" \"t\"*"));
        let many = "a ".repeat(100);
        assert_eq!(
            fts_query(&many).unwrap().matches('"').count(),
            2 * MAX_QUERY_WORDS
        );
    }

    #[test]
    fn a_snippet_becomes_runs_with_the_matches_marked() {
        let runs = marked_runs("…we \u{2}meet\u{3} on \u{2}monday\u{3}");
        let texts: Vec<(&str, bool)> = runs.iter().map(|r| (r.text.as_str(), r.matched)).collect();
        assert_eq!(
            texts,
            [
                ("…we ", false),
                ("meet", true),
                (" on ", false),
                ("monday", true)
            ]
        );
        // A snippet cut inside a match, and stray markers.
        let cut = marked_runs("\u{3}x \u{2}half");
        assert_eq!(
            cut,
            [
                Marked {
                    text: "x ".into(),
                    matched: false
                },
                Marked {
                    text: "half".into(),
                    matched: true
                }
            ]
        );
    }

    proptest! {
        #[test]
        fn any_typing_makes_a_query_of_quoted_words_only(typed in "\\PC{0,60}") {
            if let Some(query) = fts_query(&typed) {
                // Outside the quotes: only spaces and the last `*`.
                let mut inside = false;
                for c in query.chars() {
                    match c {
                        '"' => inside = !inside,
                        ' ' | '*' if !inside => {}
                        c => prop_assert!(inside, "{c:?} outside quotes in {query:?}"),
                    }
                    prop_assert!(!(inside && c != '"' && !c.is_alphanumeric()));
                }
                prop_assert!(!inside);
            }
        }

        #[test]
        fn runs_keep_every_character_but_the_markers(text in "[a-z \u{2}\u{3}]{0,40}") {
            let joined: String = marked_runs(&text).iter().map(|r| r.text.as_str()).collect();
            let expected: String = text.chars().filter(|c| *c != MATCH_OPEN && *c != MATCH_CLOSE).collect();
            prop_assert_eq!(joined, expected);
        }
    }
}
