//! The vault folder's file format (PRODUCT.md, "Vault folder"): one Markdown file per note,
//! named after its title, with a small front-matter block that keeps the note's id (so a
//! renamed file is the same note) and its exact title (which a file name cannot always hold).

use std::collections::HashSet;

use crate::NoteId;

pub const EXTENSION: &str = "md";
/// Longest file name stem, in bytes; longer titles are cut (on a character boundary).
const MAX_STEM: usize = 120;

/// A filesystem-safe, readable file name for a title, not in `taken` (compared without
/// case, as some filesystems do): `Groceries.md`, `Groceries (2).md`, ...
pub fn file_name_for(title: &str, taken: &HashSet<String>) -> String {
    let stem = safe_stem(title);
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("{stem}.{EXTENSION}")
        } else {
            format!("{stem} ({n}).{EXTENSION}")
        };
        if !taken.contains(&name.to_lowercase()) {
            return name;
        }
        n += 1;
    }
}

/// The title with every character a filesystem (or a shell) may trip on replaced, no
/// leading dots (hidden files, `..`), no trailing dots or spaces, never empty.
pub fn safe_stem(title: &str) -> String {
    let mut stem = String::with_capacity(title.len());
    for c in title.chars() {
        let bad =
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|');
        let c = if bad || c.is_whitespace() { ' ' } else { c };
        // One space for any run of spaces and replaced characters.
        if !(c == ' ' && (stem.is_empty() || stem.ends_with(' '))) {
            stem.push(c);
        }
    }
    // Not a leading `.` (hidden) or `~` (editors' lock files): such files are not read back.
    let trimmed = stem
        .trim_start_matches(['.', ' ', '~'])
        .trim_end_matches(['.', ' ']);
    let mut cut = String::new();
    for c in trimmed.chars() {
        if cut.len() + c.len_utf8() > MAX_STEM {
            break;
        }
        cut.push(c);
    }
    let cut = cut.trim_end_matches(['.', ' ']);
    if cut.is_empty() {
        "Untitled".to_owned()
    } else {
        cut.to_owned()
    }
}

/// Files in the folder that are not notes: hidden files, editors' swap, backup and temp
/// files, and anything not ending in `.md`.
pub fn is_note_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".md") else {
        return false;
    };
    !(stem.is_empty() || name.starts_with('.') || name.starts_with('~') || name.starts_with(".#"))
}

/// What a file's metadata says about its content, as a vault pass last saw it: when all of
/// it is unchanged the file is not read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    /// Modification time, in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// The file's inode (0 where the platform has none): an editor that saves by renaming a
    /// new file over the old one makes a new one.
    pub inode: u64,
}

/// A hash of a file's bytes: a file whose stamp changed but whose bytes did not (touched,
/// copied back) is not parsed again.
pub type FileHash = [u8; 32];

pub fn file_hash(text: &str) -> FileHash {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).into()
}

/// How far apart two writes must be for a filesystem with nanosecond timestamps to give
/// them different modification times (the kernel's timestamps advance with its coarse
/// clock, a few milliseconds at most).
const FINE_TICK_NS: i64 = 50_000_000;
/// The same for a filesystem that keeps whole seconds (or two, as FAT does).
const COARSE_TICK_NS: i64 = 2_000_000_000;

impl FileStamp {
    /// Whether this stamp, seen at `seen_at_ns`, can tell later changes apart: a file written
    /// again within the same clock tick as the write the stamp shows keeps the same
    /// modification time (and may keep its size), so a stamp taken that soon says nothing
    /// and the file must be read next time (as git does with "racily clean" entries). A
    /// modification time in whole seconds is taken as a filesystem that keeps no more.
    pub fn settled(self, seen_at_ns: i64) -> bool {
        let tick = if self.mtime_ns % 1_000_000_000 == 0 {
            COARSE_TICK_NS
        } else {
            FINE_TICK_NS
        };
        seen_at_ns.saturating_sub(self.mtime_ns) >= tick
    }
}

/// A note as its file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFile {
    /// None for a file another program made (it gets an id when Quire takes it in).
    pub id: Option<NoteId>,
    /// The title kept in the front matter, if any.
    pub title: Option<String>,
    pub body: String,
}

const FENCE: &str = "---\n";

/// The file's text: front matter with the id and title, then the body as it is.
pub fn render(id: NoteId, title: &str, body: &str) -> String {
    // JSON string syntax is also valid YAML for a double-quoted scalar.
    let quoted = serde_json::to_string(title).unwrap_or_else(|_| "\"\"".to_owned());
    format!("{FENCE}quire-id: {id}\ntitle: {quoted}\n{FENCE}{body}")
}

/// Reads a file's text. Without our front matter the whole text is the body.
pub fn parse(text: &str) -> NoteFile {
    let plain = || NoteFile {
        id: None,
        title: None,
        body: text.to_owned(),
    };
    let Some(rest) = text.strip_prefix(FENCE) else {
        return plain();
    };
    let Some(end) = rest
        .find("\n---\n")
        .map(|at| at + 1)
        .or_else(|| rest.starts_with(FENCE).then_some(0))
    else {
        return plain();
    };
    let (header, body) = (&rest[..end], &rest[end + FENCE.len()..]);
    let mut id = None;
    let mut title = None;
    for line in header.lines() {
        if let Some(value) = line.strip_prefix("quire-id:") {
            id = value.trim().parse::<uuid::Uuid>().ok().map(NoteId);
        } else if let Some(value) = line.strip_prefix("title:") {
            let value = value.trim();
            title = serde_json::from_str::<String>(value)
                .ok()
                .or_else(|| Some(value.to_owned()));
        }
    }
    if id.is_none() {
        // Someone else's front matter: it is part of the text.
        return plain();
    }
    NoteFile {
        id,
        title,
        body: body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn taken(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_lowercase()).collect()
    }

    #[test]
    fn names_are_readable_safe_and_unique() {
        let none = HashSet::new();
        assert_eq!(file_name_for("Groceries", &none), "Groceries.md");
        assert_eq!(file_name_for("../../etc/passwd", &none), "etc passwd.md");
        assert_eq!(
            file_name_for("a/b\\c:d*e?f\"g<h>i|j", &none),
            "a b c d e f g h i j.md"
        );
        assert_eq!(file_name_for("  .hidden. ", &none), "hidden.md");
        assert_eq!(file_name_for("", &none), "Untitled.md");
        assert_eq!(file_name_for("..", &none), "Untitled.md");
        assert_eq!(file_name_for("~", &none), "Untitled.md");
        assert_eq!(file_name_for("~/todo", &none), "todo.md");
        assert_eq!(
            file_name_for("tab\there\nnewline", &none),
            "tab here newline.md"
        );
        assert_eq!(file_name_for("Plan", &taken(&["plan.md"])), "Plan (2).md");
        assert_eq!(
            file_name_for("Plan", &taken(&["Plan.md", "Plan (2).md"])),
            "Plan (3).md"
        );
        let long = "é".repeat(200);
        let name = file_name_for(&long, &none);
        assert!(
            name.len() <= MAX_STEM + 3 && name.ends_with(".md"),
            "{name}"
        );
    }

    #[test]
    fn swap_backup_and_hidden_files_are_not_notes() {
        for name in [
            ".Plan.md.swp",
            "Plan.md~",
            ".#Plan.md",
            "~lock.md",
            ".md",
            "Plan.txt",
            ".hidden.md",
        ] {
            assert!(!is_note_file(name), "{name}");
        }
        assert!(is_note_file("Plan.md"));
    }

    #[test]
    fn a_rendered_note_parses_back_and_foreign_files_are_all_body() {
        let id = NoteId(uuid::Uuid::nil());
        let text = render(id, "a \"quoted\": title", "---\nbody with a fence\n");
        assert_eq!(
            parse(&text),
            NoteFile {
                id: Some(id),
                title: Some("a \"quoted\": title".to_owned()),
                body: "---\nbody with a fence\n".to_owned()
            }
        );
        assert_eq!(parse("just text\n").body, "just text\n");
        let jekyll = "---\nlayout: post\n---\nhello\n";
        assert_eq!(
            parse(jekyll),
            NoteFile {
                id: None,
                title: None,
                body: jekyll.to_owned()
            }
        );
    }

    #[test]
    fn a_stamp_settles_one_tick_after_its_write() {
        let stamp = |mtime_ns| FileStamp {
            size: 10,
            mtime_ns,
            inode: 1,
        };
        let written = 1_700_000_000_123_456_789;
        assert!(!stamp(written).settled(written), "seen as it was written");
        assert!(!stamp(written).settled(written + 1_000_000));
        assert!(stamp(written).settled(written + FINE_TICK_NS));
        assert!(!stamp(written).settled(written - 5), "a time in the future");
        let whole_second = 1_700_000_000_000_000_000;
        assert!(!stamp(whole_second).settled(whole_second + 1_000_000_000));
        assert!(stamp(whole_second).settled(whole_second + COARSE_TICK_NS));
    }

    proptest! {
        #[test]
        fn any_title_makes_a_plain_file_name(title in "\\PC{0,200}") {
            let name = file_name_for(&title, &HashSet::new());
            prop_assert!(!name.contains('/') && !name.contains('\\') && !name.starts_with('.'));
            prop_assert!(is_note_file(&name));
            prop_assert!(name.len() <= MAX_STEM + 3);
        }

        #[test]
        fn render_then_parse_is_the_identity(title in "\\PC{0,40}", body in "\\PC{0,200}") {
            let id = NoteId(uuid::Uuid::nil());
            let parsed = parse(&render(id, &title, &body));
            prop_assert_eq!(parsed, NoteFile { id: Some(id), title: Some(title), body });
        }
    }
}
