// The text of a note as CodeMirror edits it: Markdown, wrapped lines, find (Ctrl+F), and an undo
// history of its own for each recently open note. Loaded on first use (see editor.ts), so the
// window's first paint never waits for CodeMirror.
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { markdownKeymap, markdownLanguage, pasteURLAsLink } from "@codemirror/lang-markdown";
import {
  forceParsing,
  HighlightStyle,
  Language,
  LanguageSupport,
  syntaxHighlighting,
  syntaxTreeAvailable,
} from "@codemirror/language";
import { search, searchKeymap } from "@codemirror/search";
import {
  Annotation,
  Compartment,
  EditorState,
  type Extension,
  Prec,
  StateEffect,
  StateField,
  Transaction,
} from "@codemirror/state";
import {
  Decoration,
  type DecorationSet,
  drawSelection,
  dropCursor,
  EditorView,
  highlightSpecialChars,
  keymap,
  placeholder,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { type MarkdownConfig, MarkdownParser } from "@lezer/markdown";
import type { NoteId } from "../bindings/NoteId";
import { findWords, type TextRange } from "./word-matches";

/** How many notes keep their editor state (undo history, cursor, scroll), the open one included. */
export const KEPT_NOTES = 20;

/**
 * The longest stretch of Markdown parsing done between two keystrokes' chances to run. The
 * whole text is parsed soon after it opens, in slices this long (see NoteText.parseAhead).
 */
const PARSE_SLICE_MS = 5;

/**
 * Notes longer than this (characters) are shown without Markdown highlighting: the Markdown
 * parser walks every block of the text on each key, which in a note of a megabyte takes
 * the key past one frame (16 ms) in WebKitGTK. Decided when a note is shown.
 */
export const HIGHLIGHT_AT_MOST_CHARS = 512 * 1024;

/** Where the Markdown language goes, or nothing for a very long note. */
const highlighting = new Compartment();

/** What the editor tells its owner. */
export interface NoteTextEvents {
  /** The person changed the text: typing, pasting, undo. Not a text loaded from the store. */
  edited(): void;
  /** Focus left the text. */
  left(): void;
}

/** Marks a change that came from the store (another device, the vault folder), not from typing. */
const fromStore = Annotation.define<boolean>();

const setMatches = StateEffect.define<readonly TextRange[]>();
const matchMark = Decoration.mark({ class: "search-match" });

/** The words a search found, marked until the person types. */
const matchesField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setMatches)) return Decoration.set(effect.value.map((range) => matchMark.range(range.from, range.to)));
    }
    if (!tr.docChanged) return marks;
    return tr.annotation(fromStore) === true ? marks.map(tr.changes) : Decoration.none;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** Paragraphs longer than this are parsed in pieces (see paragraphPieces). */
const LONG_PARAGRAPH = 2_000;

/** A small hash of a line's start, to pick the lines a long paragraph is cut at. */
function lineMark(text: string): number {
  let hash = 0;
  for (let i = 0; i < Math.min(text.length, 64); i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return hash & 7;
}

/**
 * Markdown parses a paragraph's inline text as a whole, so one keystroke in a 1 MB paragraph
 * (a pasted log, a text without blank lines) would re-parse all of it. A paragraph past
 * LONG_PARAGRAPH ends at the next line whose own text marks it (or at 8 × LONG_PARAGRAPH): a
 * keystroke then re-parses one piece, and since the cuts depend on the lines' text rather than
 * on where the paragraph began, the pieces after it keep their ends and are reused. Only
 * emphasis or a link running across a cut loses its colour.
 */
const paragraphPieces: MarkdownConfig = {
  parseBlock: [
    {
      name: "LongParagraphPiece",
      endLeaf: (_context, line, leaf) =>
        leaf.content.length >= LONG_PARAGRAPH && (lineMark(line.text) === 0 || leaf.content.length >= 8 * LONG_PARAGRAPH),
    },
  ],
};

/** GFM Markdown (lang-markdown's markdownLanguage) with long paragraphs in pieces. */
function notesMarkdown(): Language {
  const { parser } = markdownLanguage;
  if (!(parser instanceof MarkdownParser)) return markdownLanguage;
  return new Language(markdownLanguage.data, parser.configure(paragraphPieces), [], markdownLanguage.name);
}

const monospace = 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", monospace';

/** Markdown shown as a calm page of prose: the markup there, but quiet; no code-editor colours. */
const markdownStyle = HighlightStyle.define([
  { tag: tags.heading1, fontSize: "1.3em", fontWeight: "650" },
  { tag: tags.heading2, fontSize: "1.15em", fontWeight: "650" },
  { tag: [tags.heading3, tags.heading4, tags.heading5, tags.heading6], fontWeight: "650" },
  { tag: tags.strong, fontWeight: "650" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: tags.link, color: "var(--accent)" },
  { tag: tags.url, color: "var(--muted)", textDecoration: "underline" },
  { tag: tags.monospace, fontFamily: monospace, fontSize: "0.9em" },
  { tag: tags.quote, color: "var(--muted)" },
  { tag: [tags.processingInstruction, tags.contentSeparator, tags.labelName, tags.comment], color: "var(--muted)" },
]);

/** The find panel's fields and buttons, drawn like the app's own. */
const findPanelControl = {
  font: "inherit",
  color: "var(--text)",
  backgroundColor: "var(--bg)",
  border: "1px solid var(--line)",
  borderRadius: "6px",
};

// Colours are the app's own variables (styles.css), so light and dark follow the system.
// CodeMirror adds these as <style> elements, which the CSP's style-src 'unsafe-inline' allows
// only while ui/index.html has no inline <style>: Tauri would give style-src a nonce for it,
// and a nonce turns 'unsafe-inline' off.
const noteTheme = EditorView.theme({
  "&": {
    flex: "1",
    minHeight: "0",
    color: "var(--text)",
    backgroundColor: "transparent",
    fontSize: "15px",
  },
  "&.cm-focused": { outline: "none" },
  ".cm-scroller": { fontFamily: "inherit", lineHeight: "1.6" },
  ".cm-content": { maxWidth: "46rem", padding: "2px 0 30vh", caretColor: "var(--text)" },
  ".cm-line": { padding: "0 2px" },
  ".cm-cursor, .cm-dropCursor": { borderLeft: "2px solid var(--accent)" },
  ".cm-selectionBackground": { background: "color-mix(in srgb, var(--muted) 22%, transparent)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-content ::selection": {
    background: "color-mix(in srgb, var(--accent) 28%, transparent)",
  },
  ".cm-placeholder": { color: "var(--muted)" },
  ".cm-panels": { backgroundColor: "var(--pane)", color: "var(--text)", borderRadius: "8px" },
  ".cm-panels.cm-panels-top": { border: "1px solid var(--line)", marginBottom: "8px" },
  ".cm-panel.cm-search": { padding: "6px 32px 6px 10px", fontSize: "13px" },
  ".cm-panel.cm-search label": { fontSize: "12px", color: "var(--muted)" },
  ".cm-panel.cm-search [name=close]": { color: "var(--muted)", fontSize: "18px", top: "4px", right: "10px", cursor: "pointer" },
  ".cm-textfield": { ...findPanelControl, padding: "3px 8px" },
  ".cm-button, .cm-button:active": {
    ...findPanelControl,
    fontSize: "12px",
    backgroundImage: "none",
    padding: "3px 10px",
    cursor: "pointer",
  },
  ".cm-button:hover": { borderColor: "var(--accent)" },
  ".cm-searchMatch": { backgroundColor: "color-mix(in srgb, #f5b700 30%, transparent)", borderRadius: "2px" },
  ".cm-searchMatch-selected": { backgroundColor: "color-mix(in srgb, #f5b700 60%, transparent)" },
  ".search-match": {
    backgroundColor: "color-mix(in srgb, #f5b700 45%, transparent)",
    borderRadius: "2px",
    boxShadow: "0 0 0 1px color-mix(in srgb, #f5b700 60%, transparent)",
  },
});

/** Markdown's language and colours, made once and shared by every note's state. */
const markdownSupport: Extension = [new LanguageSupport(notesMarkdown()), syntaxHighlighting(markdownStyle)];

/** The highlighting a text of `length` characters is shown with. */
function highlightingFor(length: number): Extension {
  return length > HIGHLIGHT_AT_MOST_CHARS ? [] : markdownSupport;
}

function noteExtensions(events: NoteTextEvents, parseAhead: () => void): Extension[] {
  return [
    highlighting.of(markdownSupport),
    // Enter continues a list or quote, Backspace takes its marker away again.
    Prec.high(keymap.of(markdownKeymap)),
    pasteURLAsLink,
    history(),
    search({ top: true }),
    keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
    highlightSpecialChars(),
    drawSelection(),
    dropCursor(),
    EditorView.lineWrapping,
    placeholder("Start writing…"),
    EditorView.contentAttributes.of({ "data-testid": "note-body", "aria-label": "Note text", spellcheck: "true" }),
    matchesField,
    noteTheme,
    EditorView.updateListener.of((update) => {
      // Constant work per keystroke: nothing here reads the whole text.
      if (update.transactions.some((tr) => tr.docChanged && tr.annotation(fromStore) !== true)) events.edited();
      if (update.focusChanged && !update.view.hasFocus) events.left();
      // O(1): whether the tree reaches the end is one comparison.
      if (update.docChanged && !syntaxTreeAvailable(update.state)) parseAhead();
    }),
  ];
}

/** A note's editor state while another note is open, and where it was scrolled. */
interface KeptNote {
  state: EditorState;
  scroll: ReturnType<EditorView["scrollSnapshot"]>;
}

/** The last few notes' states, the least recently shown let go first. */
class RecentNotes {
  private readonly kept = new Map<NoteId, KeptNote>();

  constructor(private readonly limit: number) {}

  take(id: NoteId): KeptNote | undefined {
    const kept = this.kept.get(id);
    this.kept.delete(id);
    return kept;
  }

  put(id: NoteId, note: KeptNote): void {
    this.kept.delete(id);
    this.kept.set(id, note);
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.limit) break;
      this.kept.delete(oldest);
    }
  }
}

/** CodeMirror keeps one line break; the store's text may have "\r\n" (a file from another editor). */
function asEditorText(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

/**
 * One CodeMirror view for the open note's text. Each note has its own EditorState, so undo
 * never reaches into another note; states of the last KEPT_NOTES notes are kept.
 */
export class NoteText {
  private readonly view: EditorView;
  private readonly extensions: Extension[];
  private readonly recent = new RecentNotes(KEPT_NOTES - 1);
  private shownId: NoteId | undefined;
  private parsing: ReturnType<typeof setTimeout> | undefined;

  constructor(events: NoteTextEvents) {
    this.extensions = noteExtensions(events, () => {
      this.parseAhead();
    });
    this.view = new EditorView({ state: EditorState.create({ extensions: this.extensions }) });
  }

  /** The editor's element, to put in the page. */
  get dom(): HTMLElement {
    return this.view.dom;
  }

  /** The whole text: O(length), so for saving, not for every keystroke. */
  get text(): string {
    return this.view.state.doc.toString();
  }

  /**
   * Shows note `id` with `text`: its own state if it was open lately (its undo history, cursor
   * and scroll), brought up to `text` if the store's text changed meanwhile; else a new state.
   */
  show(id: NoteId, text: string, keepTyped = false): void {
    if (id !== this.shownId) {
      // Taken before the open note's is put away, so putting it never lets go of this one.
      const kept = this.recent.take(id);
      if (this.shownId !== undefined) {
        this.recent.put(this.shownId, { state: this.view.state, scroll: this.view.scrollSnapshot() });
      }
      this.view.setState(kept?.state ?? EditorState.create({ doc: asEditorText(text), extensions: this.extensions }));
      if (kept !== undefined) this.view.dispatch({ effects: kept.scroll });
      this.shownId = id;
    }
    this.view.dispatch({ effects: setMatches.of([]) });
    // A note whose last save failed keeps what was typed, not the store's older text.
    if (!keepTyped) this.replaceText(text);
    const wanted = highlightingFor(this.view.state.doc.length);
    if (highlighting.get(this.view.state) !== wanted) this.view.dispatch({ effects: highlighting.reconfigure(wanted) });
    this.parseAhead();
  }

  /**
   * Parses the text to its end in short slices, soon after it opens. CodeMirror's own worker
   * parses only a little beyond the view, and where the browser has no requestIdleCallback
   * (WebKitGTK) in slices of up to 100 ms: a jump to the end of a 1 MB note would then make
   * the next keystrokes wait for the parse.
   */
  private parseAhead(): void {
    if (this.parsing !== undefined) return;
    const step = (): void => {
      this.parsing = undefined;
      if (syntaxTreeAvailable(this.view.state)) return;
      forceParsing(this.view, this.view.state.doc.length, PARSE_SLICE_MS);
      this.parsing = setTimeout(step, 0);
    };
    this.parsing = setTimeout(step, 0);
  }

  /**
   * Replaces the text with the store's, changing only the part that differs, so the cursor
   * stays where it was in the text around it. Not an edit: nothing to save, not undoable.
   */
  replaceText(text: string): void {
    const next = asEditorText(text);
    const current = this.text;
    if (current === next) return;
    const shorter = Math.min(current.length, next.length);
    let start = 0;
    while (start < shorter && current.charCodeAt(start) === next.charCodeAt(start)) start++;
    let end = 0;
    while (end < shorter - start && current.charCodeAt(current.length - 1 - end) === next.charCodeAt(next.length - 1 - end)) {
      end++;
    }
    this.view.dispatch({
      changes: { from: start, to: current.length - end, insert: next.slice(start, next.length - end) },
      annotations: [fromStore.of(true), Transaction.addToHistory.of(false)],
    });
  }

  /**
   * Marks where `words` occur (see word-matches.ts), and puts the cursor on the first one,
   * scrolled into view. Returns how many places were marked.
   */
  showMatches(words: readonly string[]): number {
    const ranges = findWords(this.view.state.doc.iterLines(), words).filter((range) => range.to > range.from);
    const first = ranges[0];
    this.view.dispatch({
      effects: [setMatches.of(ranges), ...(first === undefined ? [] : [EditorView.scrollIntoView(first.from, { y: "center" })])],
      ...(first === undefined ? {} : { selection: { anchor: first.from } }),
    });
    return ranges.length;
  }

  focus(): void {
    this.view.focus();
  }

  /** After the editor was hidden: lay it out again. */
  remeasure(): void {
    this.view.requestMeasure();
  }
}
