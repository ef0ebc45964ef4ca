// Full-text search in the note list: asking the index as the person types (the newest question's
// answer wins), and a hit as a list row with its snippet, the matched words marked.
import type { Marked } from "../bindings/Marked";
import type { NoteId } from "../bindings/NoteId";
import type { NoteSummary } from "../bindings/NoteSummary";
import type { SearchHit } from "../bindings/SearchHit";
import { Debouncer } from "../debounce";
import { el } from "../dom";
import { type NoteFilter, type NoteRow, passesFilter } from "./note-list";

/** How long typing in the search box may pause before the index is asked. */
export const SEARCH_DELAY_MS = 120;

/** The words the index searches for: split as crates/core/src/search.rs splits what is typed. */
export function searchWords(typed: string): string[] {
  return typed.split(/[^\p{Alphabetic}\p{N}]+/u).filter((word) => word !== "");
}

/** The words to mark in a note opened from a hit: those its snippet matched, and those typed. */
export function wordsToMark(hit: SearchHit | undefined, typed: string): string[] {
  const matched = hit?.snippet.filter((run) => run.matched).map((run) => run.text) ?? [];
  return [...new Set([...matched, ...searchWords(typed)])];
}

/** An answer to what was typed. */
export interface SearchAnswer {
  query: string;
  hits: SearchHit[];
}

/**
 * Asks `search` for what is typed once typing pauses. An answer is shown only while no newer
 * question was asked since, so a slow answer to an old query never replaces a newer one.
 */
export class LiveSearch {
  private query = "";
  /** Counts questions: an answer belongs to the newest only if the count did not move on. */
  private asked = 0;
  private readonly pause: Debouncer;

  constructor(
    private readonly search: (query: string) => Promise<SearchHit[]>,
    private readonly show: (answer: SearchAnswer) => void,
    private readonly fail: (reason: unknown) => void,
    delayMs = SEARCH_DELAY_MS,
  ) {
    this.pause = new Debouncer(delayMs, () => this.run());
  }

  /** Searches for `query` soon; nothing (and no answer still on its way) for an empty one. */
  ask(query: string): void {
    this.query = query;
    this.asked += 1;
    if (searchWords(query).length === 0) this.pause.cancel();
    else this.pause.schedule();
  }

  private async run(): Promise<void> {
    const query = this.query;
    this.asked += 1;
    const ticket = this.asked;
    try {
      const hits = await this.search(query);
      if (ticket === this.asked) this.show({ query, hits });
    } catch (reason) {
      if (ticket === this.asked) this.fail(reason);
    }
  }
}

/**
 * The hits as list rows: each with the note's sync state from the list, kept only when it
 * passes `filter`. A hit the list does not know yet counts as neither pending nor conflicted.
 */
export function hitRows(hits: readonly SearchHit[], notes: readonly NoteSummary[], filter: NoteFilter): NoteRow[] {
  const known = new Map<NoteId, NoteSummary>(notes.map((note) => [note.id, note]));
  return hits.flatMap((hit) => {
    const summary = known.get(hit.id);
    const row: NoteRow = {
      id: hit.id,
      title: hit.title,
      updatedAt: hit.updatedAt,
      pending: summary?.pending ?? false,
      conflict: summary?.conflict ?? false,
      snippet: hit.snippet,
    };
    return passesFilter(row, filter) ? [row] : [];
  });
}

/** A hit's snippet: its text as text nodes (never HTML), the matched words in `<mark>`. */
export function snippetElement(runs: readonly Marked[]): HTMLElement {
  return el(
    "span",
    { class: "search-snippet", "data-testid": "search-snippet" },
    ...runs.map((run) => (run.matched ? el("mark", {}, run.text) : run.text)),
  );
}
