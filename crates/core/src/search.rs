//! Full-text search, the pure half (issue 21): a person's words as an FTS5 query, and a
//! snippet's marked words as runs the UI draws without HTML. The store runs the query.
//!
//! A query is the person's words, never syntax: quotes, `AND`/`OR`/`NOT`/`NEAR`, `*`, `:`,
//! parentheses and stray punctuation are split away exactly as the index's tokenizer
//! (`unicode61`) splits text, and each word goes in double quotes, so nothing typed can be
//! an error. Every word must match; the last also as a prefix, as it may be half typed, once
//! it has [`MIN_PREFIX_CHARS`] characters.

use std::collections::VecDeque;

use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words a query keeps at most: beyond this, more words narrow nothing a person needs and
/// each costs the index another lookup.
pub const MAX_QUERY_WORDS: usize = 16;

/// The shortest last word matched as a prefix too. Shorter ones match whole words only: a
/// prefix of one or two letters is in nearly every note, narrows nothing, and would make the
/// index merge hundreds of words' lists on the first key pressed.
pub const MIN_PREFIX_CHARS: usize = 3;

/// The FTS5 query for what the person typed; `None` when it holds no word at all.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<&str> = typed_words(typed).collect();
    let last = words.len().checked_sub(1)?;
    let mut query = String::with_capacity(typed.len() + 4 * words.len());
    for (at, word) in words.iter().enumerate() {
        if at > 0 {
            query.push(' ');
        }
        query.push('"');
        query.push_str(word);
        query.push('"');
        if at == last && word.chars().count() >= MIN_PREFIX_CHARS {
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

/// Words of a snippet shown around the first match.
pub const SNIPPET_WORDS: usize = 16;

/// The words of what the person typed, as [`fts_query`] keeps them.
fn typed_words(typed: &str) -> impl Iterator<Item = &str> {
    word_spans(typed)
        .map(|(from, to)| &typed[from..to])
        .take(MAX_QUERY_WORDS)
}

/// A word as the index compares it: lower case, diacritics removed (the `unicode61`
/// tokenizer's `remove_diacritics 2`, near enough for marking what matched).
fn folded(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text` (runs of letters and digits), as byte ranges.
fn word_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (from, _) = chars.by_ref().find(|(_, c)| c.is_alphanumeric())?;
        let mut to = text.len();
        while let Some(&(at, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                to = at;
                break;
            }
            chars.next();
        }
        Some((from, to))
    })
}

/// A few words of `text` around the first word that matches what was typed, the matching
/// words marked (the last typed word also as a prefix, as in [`fts_query`]); the start of
/// `text`, unmarked, when no word of it matches (the note matched by its title). Made here,
/// not by FTS5's `snippet()`, which evaluates the whole query again for every note.
pub fn snippet(text: &str, typed: &str) -> Vec<Marked> {
    let words: Vec<String> = typed_words(typed).map(folded).collect();
    let Some((last, whole)) = words.split_last() else {
        return Vec::new();
    };
    let last_is_prefix = last.chars().count() >= MIN_PREFIX_CHARS;
    let matches = |token: &str| {
        // Most words are ASCII: compared without folding (which allocates).
        if token.is_ascii() {
            let same = |word: &String| token.eq_ignore_ascii_case(word);
            return whole.iter().any(same)
                || same(last)
                || (last_is_prefix
                    && token.len() >= last.len()
                    && token[..last.len()].eq_ignore_ascii_case(last));
        }
        let token = folded(token);
        whole.contains(&token)
            || token == *last
            || (last_is_prefix && token.starts_with(last.as_str()))
    };
    // Read word by word only as far as the snippet needs: a long note costs as far as its
    // first match, not its length.
    let lead = SNIPPET_WORDS / 4;
    let mut window: VecDeque<(usize, usize)> = VecDeque::with_capacity(SNIPPET_WORDS);
    let (mut cut_before, mut cut_after, mut found) = (false, false, false);
    for span in word_spans(text) {
        if found {
            if window.len() == SNIPPET_WORDS {
                cut_after = true;
                break;
            }
            window.push_back(span);
            continue;
        }
        found = matches(&text[span.0..span.1]);
        if !found && window.len() == lead {
            window.pop_front();
            cut_before = true;
        }
        window.push_back(span);
    }
    if !found {
        // Matched by its title: the start of the text.
        window = word_spans(text).take(SNIPPET_WORDS + 1).collect();
        cut_before = false;
        cut_after = window.len() > SNIPPET_WORDS;
        window.truncate(SNIPPET_WORDS);
    }
    let Some(&(from, _)) = window.front() else {
        return Vec::new();
    };
    let mut runs: Vec<Marked> = Vec::new();
    let mut push = |text: &str, matched: bool| match runs.last_mut() {
        Some(run) if run.matched == matched => run.text.push_str(text),
        _ if text.is_empty() => {}
        _ => runs.push(Marked {
            text: text.to_owned(),
            matched,
        }),
    };
    if cut_before {
        push("…", false);
    }
    let mut at = from;
    for &(word_from, word_to) in &window {
        push(&text[at..word_from], false);
        let word = &text[word_from..word_to];
        push(word, matches(word));
        at = word_to;
    }
    if cut_after {
        push("…", false);
    }
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
        assert_eq!(
            fts_query("an").as_deref(),
            Some("\"an\""),
            "too short a prefix"
        );
        assert_eq!(fts_query("jour a").as_deref(), Some("\"jour\" \"a\""));
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("\"*()-:^ "), None);
    }

    #[test]
    fn operators_quotes_and_punctuation_are_words_or_nothing() {
        assert_eq!(
            fts_query("\"budget\" AND NOT (tax OR title:x*) NEAR/3").as_deref(),
            Some("\"budget\" \"AND\" \"NOT\" \"tax\" \"OR\" \"title\" \"x\" \"NEAR\" \"3\"")
        );
        assert_eq!(fts_query("don't").as_deref(), Some("\"don\" \"t\""));
        let many = "a ".repeat(100);
        assert_eq!(
            fts_query(&many).unwrap().matches('"').count(),
            2 * MAX_QUERY_WORDS
        );
    }

    fn shown(runs: &[Marked]) -> String {
        runs.iter()
            .map(|r| {
                if r.matched {
                    format!("[{}]", r.text)
                } else {
                    r.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn a_snippet_marks_the_matches_around_the_first_one() {
        let text = "one two three four five six seven eight nine ten eleven twelve \
                    thirteen Café fourteen fifteen sixteen seventeen eighteen nineteen twenty \
                    twentyone twentytwo cafeteria";
        assert_eq!(
            shown(&snippet(text, "cafe")),
            "…ten eleven twelve thirteen [Café] fourteen fifteen sixteen seventeen eighteen \
             nineteen twenty twentyone twentytwo [cafeteria]"
        );
        // Too short to be a prefix: whole words only.
        assert_eq!(
            shown(&snippet("an answer and an end", "an")),
            "[an] answer and [an] end"
        );
        // Matched by the title only: the start of the text, unmarked.
        assert_eq!(shown(&snippet("nothing here.", "title")), "nothing here");
        assert!(snippet("", "word").is_empty());
        assert!(snippet("text", "  ").is_empty());
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
        fn a_snippet_is_a_piece_of_the_text(text in "\\PC{0,200}", typed in "\\PC{0,20}") {
            let joined: String = snippet(&text, &typed).iter().map(|r| r.text.as_str()).collect();
            let inner = joined.trim_start_matches('…').trim_end_matches('…');
            prop_assert!(text.contains(inner), "{joined:?} not in {text:?}");
        }
    }
}
