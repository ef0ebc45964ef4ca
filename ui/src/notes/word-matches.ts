// Where a search's words occur in a note, to mark them in the editor. Matching is as loose as
// the index's (crates/core/src/search.rs, FTS5 unicode61): any case, accents ignored, and a
// word matches where a word of the text begins with it (the last typed word may be half typed).

/** A stretch of the text, in UTF-16 offsets from its start: `from` included, `to` not. */
export interface TextRange {
  from: number;
  to: number;
}

/** Beyond this many, further matches go unmarked: a one-letter word in a 1 MB note is no help. */
export const MAX_MARKED = 10_000;

/** Text as matching compares it: lower case, accents dropped ("Café" → "cafe"). */
export function foldForMatching(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

/** A line folded for matching, and for each folded unit the offset in the line it came from. */
interface FoldedLine {
  folded: string;
  /** `null` when folding kept every offset (ASCII text). */
  origins: number[] | null;
}

function foldLine(line: string): FoldedLine {
  // Most lines are ASCII: lower-casing them keeps every offset, and costs no per-character work.
  if (isAscii(line)) return { folded: line.toLowerCase(), origins: null };
  let folded = "";
  const origins: number[] = [];
  let at = 0;
  for (const char of line) {
    const piece = foldForMatching(char);
    for (let k = 0; k < piece.length; k++) origins.push(at);
    folded += piece;
    at += char.length;
  }
  return { folded, origins };
}

/** Where folded offset `k` starts in the line; the line's end past the last one. */
function lineOffset(line: FoldedLine, k: number, lineLength: number): number {
  if (line.origins === null) return k;
  return line.origins[k] ?? lineLength;
}

const WORD_CHAR_AT_END = /[\p{L}\p{N}]$/u;

/** Whether folded offset `k` is where a word begins (a surrogate pair before it is one character). */
function startsWord(folded: string, k: number): boolean {
  return k === 0 || !WORD_CHAR_AT_END.test(folded.slice(Math.max(0, k - 2), k));
}

function mergeSorted(ranges: TextRange[]): TextRange[] {
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: TextRange[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && range.from <= last.to) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

/**
 * Every place in `lines` (a text's lines, joined by "\n") where a word of the text begins
 * with one of `words`, in order, overlapping places merged. Runs once when a found note
 * opens, never per keystroke.
 */
export function findWords(lines: Iterable<string>, words: readonly string[]): TextRange[] {
  const wanted = [...new Set(words.map(foldForMatching).filter((word) => word !== ""))];
  if (wanted.length === 0) return [];
  const found: TextRange[] = [];
  let lineStart = 0;
  for (const text of lines) {
    const line = foldLine(text);
    for (const word of wanted) {
      for (let k = line.folded.indexOf(word); k !== -1; k = line.folded.indexOf(word, k + 1)) {
        if (!startsWord(line.folded, k)) continue;
        found.push({
          from: lineStart + lineOffset(line, k, text.length),
          to: lineStart + lineOffset(line, k + word.length, text.length),
        });
        if (found.length >= MAX_MARKED) return mergeSorted(found);
      }
    }
    lineStart += text.length + 1;
  }
  return mergeSorted(found);
}
