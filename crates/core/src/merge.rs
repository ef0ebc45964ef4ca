//! Three-way merge of lines, diff3 style (PRODUCT.md, "Conflicts").
//!
//! Terms: the *base* is the last text both sides agreed on; *ours* and *theirs* are two
//! edits of it. Each side is diffed against the base (with `similar`). A base line that both
//! sides kept, at the position the walk has reached, is *stable*; the lines between two
//! stable points form a *chunk*. A chunk that only one side changed takes that side's lines,
//! one both sides changed the same way takes those lines, and one both changed differently is
//! a conflict, kept as base / ours / theirs for a person to decide.

use similar::{capture_diff_slices, Algorithm, DiffOp};

/// One stretch of the merged text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    /// Lines every side agrees on (or that only one side changed).
    Resolved(String),
    /// Lines both sides changed differently.
    Conflict {
        base: String,
        ours: String,
        theirs: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub hunks: Vec<Hunk>,
}

impl Merge {
    /// The merged text, when no hunk conflicts.
    pub fn clean(&self) -> Option<String> {
        let mut text = String::new();
        for hunk in &self.hunks {
            match hunk {
                Hunk::Resolved(lines) => text.push_str(lines),
                Hunk::Conflict { .. } => return None,
            }
        }
        Some(text)
    }

    pub fn conflicts(&self) -> usize {
        self.hunks
            .iter()
            .filter(|h| matches!(h, Hunk::Conflict { .. }))
            .count()
    }
}

/// Lines with their endings, so joining them gives the text back exactly.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// For each base line, the line of `side` it was kept as, if it was.
fn kept_lines(base: &[&str], side: &[&str]) -> Vec<Option<usize>> {
    let mut kept = vec![None; base.len()];
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for n in 0..len {
                kept[old_index + n] = Some(new_index + n);
            }
        }
    }
    kept
}

/// Merges `ours` and `theirs`, two edits of `base`.
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Merge {
    let (b, o, t) = (lines(base), lines(ours), lines(theirs));
    let (in_ours, in_theirs) = (kept_lines(&b, &o), kept_lines(&b, &t));
    let mut hunks = Vec::new();
    let (mut i, mut j, mut k) = (0, 0, 0);
    loop {
        // The stable run from here: base lines both sides kept, right where the walk is.
        let start = i;
        while i < b.len() && in_ours[i] == Some(j) && in_theirs[i] == Some(k) {
            i += 1;
            j += 1;
            k += 1;
        }
        push_resolved(&mut hunks, &b[start..i]);
        if i == b.len() && j == o.len() && k == t.len() {
            break;
        }
        // The next base line both sides kept ends the chunk (or the end of all three texts).
        let (ni, nj, nk) = (i..b.len())
            .find_map(|n| Some((n, in_ours[n]?, in_theirs[n]?)))
            .unwrap_or((b.len(), o.len(), t.len()));
        let (cb, co, ct) = (&b[i..ni], &o[j..nj], &t[k..nk]);
        if co == cb {
            push_resolved(&mut hunks, ct);
        } else if ct == cb || co == ct {
            push_resolved(&mut hunks, co);
        } else {
            hunks.push(Hunk::Conflict {
                base: cb.concat(),
                ours: co.concat(),
                theirs: ct.concat(),
            });
        }
        (i, j, k) = (ni, nj, nk);
    }
    Merge { hunks }
}

/// Appends resolved lines, joining them to a resolved hunk right before.
fn push_resolved(hunks: &mut Vec<Hunk>, lines: &[&str]) {
    if lines.is_empty() {
        return;
    }
    if let Some(Hunk::Resolved(text)) = hunks.last_mut() {
        text.push_str(&lines.concat());
    } else {
        hunks.push(Hunk::Resolved(lines.concat()));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn edits_on_different_lines_merge() {
        let base = "a\nb\nc\nd\ne\n";
        let ours = "A\nb\nc\nd\ne\n";
        let theirs = "a\nb\nc\nd\nE\n";
        assert_eq!(
            merge3(base, ours, theirs).clean().unwrap(),
            "A\nb\nc\nd\nE\n"
        );
    }

    #[test]
    fn the_same_edit_on_both_sides_merges_once() {
        let merged = merge3("a\nb\n", "a\nB\n", "a\nB\n");
        assert_eq!(merged.clean().unwrap(), "a\nB\n");
    }

    #[test]
    fn different_edits_of_one_line_conflict_and_keep_all_three() {
        let merged = merge3("a\nb\nc\n", "a\nours\nc\n", "a\ntheirs\nc\n");
        assert_eq!(merged.clean(), None);
        assert_eq!(
            merged.hunks,
            [
                Hunk::Resolved("a\n".into()),
                Hunk::Conflict {
                    base: "b\n".into(),
                    ours: "ours\n".into(),
                    theirs: "theirs\n".into(),
                },
                Hunk::Resolved("c\n".into()),
            ]
        );
    }

    #[test]
    fn insertions_at_both_ends_merge() {
        let merged = merge3("m\n", "top\nm\n", "m\nbottom\n");
        assert_eq!(merged.clean().unwrap(), "top\nm\nbottom\n");
    }

    #[test]
    fn texts_without_a_final_newline_survive() {
        assert_eq!(merge3("a\nb", "a\nb", "a\nc").clean().unwrap(), "a\nc");
        assert_eq!(merge3("", "", "new").clean().unwrap(), "new");
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["a\n", "b\n", "c\n", "d\n", "e"], 0..12)
            .prop_map(|lines| lines.concat())
    }

    proptest! {
        #[test]
        fn a_side_that_changed_nothing_yields_the_other(base in text(), edit in text()) {
            prop_assert_eq!(merge3(&base, &edit, &base).clean(), Some(edit.clone()));
            prop_assert_eq!(merge3(&base, &base, &edit).clean(), Some(edit));
        }

        #[test]
        fn the_same_edit_on_both_sides_is_that_edit(base in text(), edit in text()) {
            prop_assert_eq!(merge3(&base, &edit, &edit).clean(), Some(edit));
        }

        #[test]
        fn every_line_of_a_merge_comes_from_one_of_the_texts(base in text(), ours in text(), theirs in text()) {
            let merged = merge3(&base, &ours, &theirs);
            for hunk in &merged.hunks {
                if let Hunk::Resolved(resolved) = hunk {
                    for line in resolved.split_inclusive('\n') {
                        prop_assert!(
                            base.split_inclusive('\n').any(|l| l == line)
                                || ours.split_inclusive('\n').any(|l| l == line)
                                || theirs.split_inclusive('\n').any(|l| l == line)
                        );
                    }
                }
            }
        }
    }

    /// Edits of a base whose lines are all distinct, so that every diff is unambiguous:
    /// each base line is kept, deleted, replaced, or gets a line inserted before it.
    fn edited(base: &[String], plan: &[(u8, u8)], side: &str) -> String {
        let mut out = String::new();
        for (n, (line, &(action, shared))) in base.iter().zip(plan).enumerate() {
            // "Shared" edits are the same on both sides, so both may make them.
            let tag = if shared % 3 == 0 { "both" } else { side };
            match action % 10 {
                0..=6 => out.push_str(line),
                7 => {}
                8 => out.push_str(&format!("{tag} replaced {n}\n")),
                _ => {
                    out.push_str(&format!("{tag} inserted {n}\n"));
                    out.push_str(line);
                }
            }
        }
        out
    }

    fn clean_by_git(base: &str, ours: &str, theirs: &str, dir: &std::path::Path) -> Option<String> {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (o, b, t) = (
            write("ours", ours),
            write("base", base),
            write("theirs", theirs),
        );
        let status = std::process::Command::new("git")
            .arg("merge-file")
            .args([&o, &b, &t])
            .status()
            .unwrap();
        let merged = std::fs::read_to_string(&o).unwrap();
        (status.code() == Some(0)).then_some(merged)
    }

    /// Clean or not, and the merged text when clean, as `git merge-file` says, on 300
    /// generated cases (a fixed seed, so a failure names a case that can be rerun).
    #[test]
    fn agrees_with_git_merge_file() {
        let mut seed: u64 = 0x05EE_D0F0_017E;
        let mut next = move |below: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            u8::try_from((seed >> 33) % below).unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let (mut clean, mut conflicted) = (0, 0);
        for case in 0..300 {
            let size = 1 + usize::from(next(13));
            let base: Vec<String> = (0..size).map(|n| format!("line {n}\n")).collect();
            let ours_plan: Vec<(u8, u8)> = (0..size).map(|_| (next(10), next(9))).collect();
            let theirs_plan: Vec<(u8, u8)> = (0..size).map(|_| (next(10), next(9))).collect();
            let ours = edited(&base, &ours_plan, "ours");
            let theirs = edited(&base, &theirs_plan, "theirs");
            let base = base.concat();
            let git = clean_by_git(&base, &ours, &theirs, dir.path());
            let quire = merge3(&base, &ours, &theirs).clean();
            assert_eq!(
                quire, git,
                "case {case}\nbase:\n{base}ours:\n{ours}theirs:\n{theirs}"
            );
            if let Some(merged) = &git {
                // A clean merge holds every line either side added, and no line either deleted.
                let has = |text: &str, line: &str| text.split_inclusive('\n').any(|l| l == line);
                for side in [&ours, &theirs] {
                    for line in side.split_inclusive('\n').filter(|l| !has(&base, l)) {
                        assert!(has(merged, line), "case {case}: {line:?} was lost");
                    }
                }
                for line in base.split_inclusive('\n') {
                    if !has(&ours, line) || !has(&theirs, line) {
                        assert!(!has(merged, line), "case {case}: deleted {line:?} is back");
                    }
                }
                clean += 1;
            } else {
                conflicted += 1;
            }
        }
        eprintln!("agreed with git merge-file: {clean} clean, {conflicted} conflicted");
        // The comparison means something only if both outcomes were tried often.
        assert!(
            clean >= 30 && conflicted >= 30,
            "clean {clean}, conflicted {conflicted}"
        );
    }
}
