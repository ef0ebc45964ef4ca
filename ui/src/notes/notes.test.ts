import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Note } from "../bindings/Note";
import type { NoteSummary } from "../bindings/NoteSummary";
import { AUTOSAVE_DELAY_MS, NoteEditor } from "./editor";
import { filterNotes, listKeyboardNavigation, renderNoteList, WINDOWED_ABOVE } from "./note-list";

const note = (id: string, title: string, body = ""): Note => ({
  id,
  title,
  body,
  createdAt: 1,
  updatedAt: 1,
  deleted: false,
  version: null,
});

const manyNotes = (count: number): NoteSummary[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `n${String(i)}`,
    title: `Note ${String(i)}`,
    updatedAt: i,
    pending: false,
    conflict: false,
  }));

describe("note list", () => {
  it("marks the open note and pending ones, and opens on click", () => {
    const list = document.createElement("ul");
    const notes: NoteSummary[] = [
      { id: "a", title: "Alpha", updatedAt: 2, pending: true, conflict: false },
      { id: "b", title: "Beta", updatedAt: 1, pending: false, conflict: true },
    ];
    const opened: string[] = [];
    renderNoteList(list, notes, "b", (id) => opened.push(id));
    const buttons = list.querySelectorAll<HTMLButtonElement>('[data-testid="note-item"]');
    expect([...buttons].map((b) => b.querySelector(".note-title")?.textContent)).toEqual(["Alpha", "Beta"]);
    expect(buttons[0]?.querySelector('[data-testid="pending-badge"]')).not.toBeNull();
    expect(buttons[1]?.querySelector('[data-testid="pending-badge"]')).toBeNull();
    expect(buttons[1]?.getAttribute("aria-current")).toBe("true");
    expect(buttons[1]?.querySelector('[data-testid="conflict-badge"]')).not.toBeNull();
    expect(buttons[0]?.querySelector('[data-testid="conflict-badge"]')).toBeNull();
    expect(buttons[1]?.getAttribute("aria-description")).toBe("changed on two devices");
    buttons[0]?.click();
    expect(opened).toEqual(["a"]);
  });

  it("renders a long list only around the view, and follows scrolling and the arrow keys", () => {
    const scroller = document.createElement("div");
    const list = document.createElement("ul");
    scroller.append(list);
    document.body.append(scroller);
    // jsdom lays nothing out: the scroll position is ours to set.
    let scrollTop = 0;
    Object.defineProperty(scroller, "scrollTop", {
      get: () => scrollTop,
      set: (value: number) => { scrollTop = value; },
    });
    const notes = manyNotes(10_000);
    renderNoteList(list, notes, undefined, () => undefined);
    listKeyboardNavigation(list);
    const rendered = () => [...list.querySelectorAll<HTMLButtonElement>('[data-testid="note-item"]')];
    expect(rendered().length).toBeLessThan(200);
    expect(rendered()[0]?.textContent).toBe("Note 0");
    expect(list.firstElementChild?.getAttribute("aria-setsize")).toBe("10000");
    expect(list.style.paddingBottom).not.toBe("");

    scrollTop = 5_000 * 32;
    scroller.dispatchEvent(new Event("scroll"));
    const titles = rendered().map((b) => b.textContent);
    expect(titles).toContain("Note 5000");
    expect(titles).not.toContain("Note 0");
    expect(list.style.paddingTop).not.toBe("");

    // Down from the last rendered row brings the next one in and moves focus to it.
    const lastShown = rendered().at(-1);
    lastShown?.focus();
    const lastIndex = Number(lastShown?.dataset.index);
    lastShown?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect((document.activeElement as HTMLElement).dataset.index).toBe(String(lastIndex + 1));

    // A refresh (a sync round) keeps the focused row focused.
    renderNoteList(list, [...notes], undefined, () => undefined);
    expect((document.activeElement as HTMLElement).dataset.index).toBe(String(lastIndex + 1));
    scroller.remove();
  });

  it("renders a short list whole", () => {
    const list = document.createElement("ul");
    const notes = manyNotes(WINDOWED_ABOVE);
    renderNoteList(list, notes, undefined, () => undefined);
    expect(list.querySelectorAll('[data-testid="note-item"]').length).toBe(WINDOWED_ABOVE);
    expect(list.style.paddingTop).toBe("");
  });

  it("filters by every word of the search, in any case, and by state", () => {
    const notes: NoteSummary[] = [
      { id: "a", title: "Grocery list", updatedAt: 3, pending: true, conflict: false },
      { id: "b", title: "Trip plan: Lisbon", updatedAt: 2, pending: false, conflict: true },
      { id: "c", title: "Plan for the garden", updatedAt: 1, pending: false, conflict: false },
    ];
    const ids = (found: NoteSummary[]) => found.map((n) => n.id);
    expect(ids(filterNotes(notes, "", "all"))).toEqual(["a", "b", "c"]);
    expect(ids(filterNotes(notes, "PLAN", "all"))).toEqual(["b", "c"]);
    expect(ids(filterNotes(notes, "plan garden", "all"))).toEqual(["c"]);
    expect(ids(filterNotes(notes, "  ", "pending"))).toEqual(["a"]);
    expect(ids(filterNotes(notes, "plan", "conflict"))).toEqual(["b"]);
  });
});

describe("note editor", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const pane = document.createElement("main");
    const saves: { id: string; title: string; body: string }[] = [];
    const saved: Note[] = [];
    const editor = new NoteEditor(
      pane,
      (id, edit) => {
        saves.push({ id, ...edit });
        return Promise.resolve(note(id, edit.title, edit.body));
      },
      (n) => saved.push(n),
    );
    const type = (testId: string, value: string) => {
      const field = pane.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[data-testid="${testId}"]`);
      if (!field) throw new Error(testId);
      field.value = value;
      field.dispatchEvent(new Event("input"));
    };
    return { pane, editor, saves, saved, type };
  }

  it("saves once, shortly after typing stops", async () => {
    const { editor, saves, saved, type, pane } = setup();
    await editor.open(note("n1", "Title", "old"));
    type("note-body", "n");
    type("note-body", "ne");
    type("note-body", "new");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS - 1);
    expect(saves).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([{ id: "n1", title: "Title", body: "new" }]);
    expect(saved.map((n) => n.body)).toEqual(["new"]);
    expect(pane.querySelector('[data-testid="save-state"]')?.textContent).toBe("Saved");
  });

  it("saves pending typing before another note opens", async () => {
    const { editor, saves, type } = setup();
    await editor.open(note("n1", "One"));
    type("note-title", "One, edited");
    await editor.open(note("n2", "Two"));
    expect(saves).toEqual([{ id: "n1", title: "One, edited", body: "" }]);
    expect(editor.openId).toBe("n2");
  });

  it("keeps the text and says why when a save fails", async () => {
    const pane = document.createElement("main");
    const editor = new NoteEditor(pane, () => Promise.reject(new Error("the title is empty")), () => undefined);
    await editor.open(note("n1", "T"));
    const title = pane.querySelector<HTMLInputElement>('[data-testid="note-title"]');
    if (!title) throw new Error("no title field");
    title.value = "";
    title.dispatchEvent(new Event("input"));
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    const state = pane.querySelector('[data-testid="save-state"]');
    expect(state?.textContent).toBe("the title is empty");
    expect(state?.classList.contains("error")).toBe(true);
    expect(title.value).toBe("");
  });

  it("asks once before deleting, saves typing first, and can be cancelled", async () => {
    const pane = document.createElement("main");
    const deleted: string[] = [];
    const saves: string[] = [];
    const editor = new NoteEditor(
      pane,
      (id, edit) => {
        saves.push(edit.title);
        return Promise.resolve(note(id, edit.title, edit.body));
      },
      () => undefined,
      (n) => deleted.push(n.id),
    );
    await editor.open(note("n1", "Doomed"));
    const click = (testId: string) => {
      const button = pane.querySelector<HTMLButtonElement>(`[data-testid="${testId}"]`);
      if (!button) throw new Error(`no ${testId}`);
      button.click();
    };
    click("delete-note");
    expect(pane.querySelector('[role="alert"]')?.textContent).toBe("Delete this note?");
    click("cancel-delete");
    expect(pane.querySelector('[data-testid="confirm-delete"]')).toBeNull();
    expect(deleted).toEqual([]);

    const title = pane.querySelector<HTMLInputElement>('[data-testid="note-title"]');
    if (!title) throw new Error("no title field");
    title.value = "Doomed, renamed";
    title.dispatchEvent(new Event("input"));
    click("delete-note");
    click("confirm-delete");
    await vi.advanceTimersByTimeAsync(0);
    expect(saves).toEqual(["Doomed, renamed"]);
    expect(deleted).toEqual(["n1"]);
  });

  it("shows a change made outside (the vault folder) unless typing is unsaved", async () => {
    const { editor, pane, type } = setup();
    await editor.open(note("n1", "Plan", "old"));
    const body = () => pane.querySelector<HTMLTextAreaElement>('[data-testid="note-body"]')?.value;
    editor.reload(note("n1", "Plan", "changed in another editor"));
    expect(body()).toBe("changed in another editor");
    type("note-body", "typing here");
    expect(editor.hasUnsavedTyping).toBe(true);
    editor.reload(note("n1", "Plan", "second outside change"));
    expect(body()).toBe("typing here");
    editor.reload(note("n2", "Other", "not the open note"));
    expect(body()).toBe("typing here");
  });
});
