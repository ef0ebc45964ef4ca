import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NoteSummary } from "../bindings/NoteSummary";
import type { SearchHit } from "../bindings/SearchHit";
import { renderNoteList } from "./note-list";
import { hitRows, LiveSearch, SEARCH_DELAY_MS, type SearchAnswer, searchWords, wordsToMark } from "./search-results";

const hit = (id: string, title: string, ...snippet: [string, boolean][]): SearchHit => ({
  id,
  title,
  updatedAt: 1,
  snippet: snippet.map(([text, matched]) => ({ text, matched })),
});

const summary = (id: string, pending = false, conflict = false): NoteSummary => ({
  id,
  title: id,
  updatedAt: 1,
  pending,
  conflict,
});

describe("search words", () => {
  it("are split as the index splits what is typed: no syntax, no punctuation", () => {
    expect(searchWords("garden plan")).toEqual(["garden", "plan"]);
    expect(searchWords("  café ")).toEqual(["café"]);
    expect(searchWords('"budget" AND (tax OR title:x*)')).toEqual(["budget", "AND", "tax", "OR", "title", "x"]);
    expect(searchWords("don't")).toEqual(["don", "t"]);
    expect(searchWords('"*()-:^ ')).toEqual([]);
  });

  it("to mark in an opened hit are its matched words and the typed ones, once each", () => {
    const found = hit("a", "A", ["we ", false], ["meet", true], [" on ", false], ["Monday", true]);
    expect(wordsToMark(found, "mon mee")).toEqual(["meet", "Monday", "mon", "mee"]);
    expect(wordsToMark(undefined, "meet")).toEqual(["meet"]);
  });
});

describe("search hits in the list", () => {
  it("show the title and the snippet, the matched words in <mark>, and open on click", () => {
    const list = document.createElement("ul");
    const opened: string[] = [];
    const rows = hitRows([hit("a", "Trip", ["…we ", false], ["meet", true], [" at the station", false])], [summary("a", true)], "all");
    renderNoteList(list, rows, undefined, (id) => opened.push(id));
    const item = list.querySelector<HTMLButtonElement>('[data-testid="note-item"]');
    expect(item?.querySelector(".note-title")?.textContent).toBe("Trip");
    expect(item?.querySelector('[data-testid="pending-badge"]')).not.toBeNull();
    const snippet = item?.querySelector('[data-testid="search-snippet"]');
    expect(snippet?.textContent).toBe("…we meet at the station");
    expect([...(snippet?.querySelectorAll("mark") ?? [])].map((m) => m.textContent)).toEqual(["meet"]);
    item?.click();
    expect(opened).toEqual(["a"]);
  });

  it("show a snippet's HTML as text, never as elements", () => {
    const list = document.createElement("ul");
    const attack = '<img src=x onerror="window.__xss=1">';
    const rows = hitRows([hit("a", "<b>bold?</b>", [attack, false], ["<script>x</script>", true])], [], "all");
    renderNoteList(list, rows, undefined, () => undefined);
    const snippet = list.querySelector('[data-testid="search-snippet"]');
    expect(snippet?.textContent).toBe(`${attack}<script>x</script>`);
    expect(list.querySelector("img, script, b")).toBeNull();
    expect(snippet?.querySelector("mark")?.textContent).toBe("<script>x</script>");
    expect(list.querySelector(".note-title")?.textContent).toBe("<b>bold?</b>");
  });

  it("pass the list's filter, with each note's sync state from the list", () => {
    const hits = [hit("a", "A"), hit("b", "B"), hit("new", "Not listed yet")];
    const notes = [summary("a", true), summary("b", false, true)];
    const ids = (filter: "all" | "pending" | "conflict") => hitRows(hits, notes, filter).map((row) => row.id);
    expect(ids("all")).toEqual(["a", "b", "new"]);
    expect(ids("pending")).toEqual(["a"]);
    expect(ids("conflict")).toEqual(["b"]);
  });
});

describe("live search", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A search whose answers the test gives, in any order. */
  function slowSearch() {
    const asked: { query: string; answer: (hits: SearchHit[]) => void; refuse: (reason: Error) => void }[] = [];
    const shown: SearchAnswer[] = [];
    const failed: unknown[] = [];
    const live = new LiveSearch(
      (query) =>
        new Promise<SearchHit[]>((resolve, reject) => {
          asked.push({ query, answer: resolve, refuse: reject });
        }),
      (answer) => shown.push(answer),
      (reason) => failed.push(reason),
    );
    return { live, asked, shown, failed };
  }

  it("asks once typing pauses", async () => {
    const { live, asked } = slowSearch();
    live.ask("g");
    live.ask("ga");
    live.ask("gar");
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS - 1);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked.map((a) => a.query)).toEqual(["gar"]);
  });

  it("never lets a late answer to an older query replace the newer one", async () => {
    const { live, asked, shown } = slowSearch();
    live.ask("gar");
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    live.ask("garden");
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    const [older, newer] = asked;
    newer?.answer([hit("g", "Garden")]);
    await vi.advanceTimersByTimeAsync(0);
    older?.answer([hit("o", "Other")]);
    await vi.advanceTimersByTimeAsync(0);
    expect(shown.map((answer) => [answer.query, answer.hits.map((h) => h.id)])).toEqual([["garden", ["g"]]]);
  });

  it("drops an answer still on its way when the box is emptied or typed into again", async () => {
    const { live, asked, shown, failed } = slowSearch();
    live.ask("plan");
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    live.ask("");
    asked[0]?.answer([hit("p", "Plan")]);
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    expect(shown).toEqual([]);
    expect(asked.length).toBe(1);

    live.ask("trip");
    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    live.ask("trips");
    asked[1]?.refuse(new Error("index busy"));
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toEqual([]);
  });
});
