import { undoDepth } from "@codemirror/commands";
import { ensureSyntaxTree, language, syntaxTreeAvailable } from "@codemirror/language";
import { EditorView } from "@codemirror/view";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Note } from "../bindings/Note";
import type { NoteSummary } from "../bindings/NoteSummary";
import { KEPT_NOTES } from "./code-editor";
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

  function setup(openLink?: (url: string) => void) {
    const pane = document.createElement("main");
    // In the page, as in the app: CodeMirror looks at focus and layout through the document.
    document.body.append(pane);
    const saves: { id: string; title: string; body: string }[] = [];
    const saved: Note[] = [];
    const editor = new NoteEditor(
      pane,
      (id, edit) => {
        saves.push({ id, ...edit });
        return Promise.resolve(note(id, edit.title, edit.body));
      },
      (n) => saved.push(n),
      undefined,
      undefined,
      openLink,
    );
    const typeTitle = (value: string) => {
      const field = pane.querySelector<HTMLInputElement>('[data-testid="note-title"]');
      if (!field) throw new Error("no title field");
      field.value = value;
      field.dispatchEvent(new Event("input"));
    };
    return { pane, editor, saves, saved, typeTitle };
  }

  afterEach(() => {
    document.body.replaceChildren();
  });

  /** The CodeMirror view the note's text is in, found the way CodeMirror itself offers. */
  function textView(pane: HTMLElement): EditorView {
    const content = pane.querySelector<HTMLElement>('[data-testid="note-body"]');
    const view = content === null ? null : EditorView.findFromDOM(content);
    if (view === null) throw new Error("no note text");
    return view;
  }

  const bodyText = (pane: HTMLElement) => textView(pane).state.doc.toString();

  /** A keystroke as CodeMirror reports one: typed text replacing the selection. */
  function type(pane: HTMLElement, text: string): void {
    const view = textView(pane);
    view.dispatch({ ...view.state.replaceSelection(text), userEvent: "input.type" });
  }

  function moveCursor(pane: HTMLElement, at: number): void {
    textView(pane).dispatch({ selection: { anchor: at } });
  }

  function pressUndo(pane: HTMLElement): void {
    textView(pane).contentDOM.dispatchEvent(new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true, cancelable: true }));
  }

  it("puts the text in a CodeMirror editor the tests and the e2e suite can find", async () => {
    const { editor, pane } = setup();
    await editor.open(note("n1", "Title", "# Plan\n\nfirst"));
    const content = pane.querySelector('[data-testid="note-body"]');
    expect(content?.classList.contains("cm-content")).toBe(true);
    expect(content?.getAttribute("contenteditable")).toBe("true");
    expect(bodyText(pane)).toBe("# Plan\n\nfirst");
    expect(pane.querySelector(".cm-gutters")).toBeNull();
  });

  it("saves once, shortly after typing stops", async () => {
    const { editor, saves, saved, pane } = setup();
    await editor.open(note("n1", "Title", "old"));
    moveCursor(pane, 3);
    type(pane, " n");
    type(pane, "e");
    type(pane, "w");
    expect(pane.querySelector('[data-testid="save-state"]')?.textContent).toBe("Editing…");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS - 1);
    expect(saves).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([{ id: "n1", title: "Title", body: "old new" }]);
    expect(saved.map((n) => n.body)).toEqual(["old new"]);
    expect(pane.querySelector('[data-testid="save-state"]')?.textContent).toBe("Saved");
  });

  it("does not save while typing goes on", async () => {
    const { editor, saves, pane } = setup();
    await editor.open(note("n1", "Title", ""));
    for (const letter of "slowly") {
      type(pane, letter);
      await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS - 1);
    }
    expect(saves).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([{ id: "n1", title: "Title", body: "slowly" }]);
  });

  it("saves pending typing before another note opens", async () => {
    const { editor, saves, typeTitle, pane } = setup();
    await editor.open(note("n1", "One"));
    typeTitle("One, edited");
    type(pane, "text of one");
    await editor.open(note("n2", "Two", "text of two"));
    expect(saves).toEqual([{ id: "n1", title: "One, edited", body: "text of one" }]);
    expect(editor.openId).toBe("n2");
    expect(bodyText(pane)).toBe("text of two");
  });

  it("keeps an undo history per note: undo never brings back another note's text", async () => {
    const { editor, pane } = setup();
    await editor.open(note("a", "A", "alpha"));
    moveCursor(pane, 5);
    type(pane, " typed in A");
    await editor.open(note("b", "B", "beta"));
    moveCursor(pane, 4);
    type(pane, " typed in B");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);

    // Undo in B goes back to B as it opened, and no further.
    pressUndo(pane);
    expect(bodyText(pane)).toBe("beta");
    pressUndo(pane);
    pressUndo(pane);
    expect(bodyText(pane)).toBe("beta");

    // A kept its own history (the store still has A's typing, saved before B opened).
    await editor.open(note("a", "A", "alpha typed in A"));
    expect(bodyText(pane)).toBe("alpha typed in A");
    pressUndo(pane);
    expect(bodyText(pane)).toBe("alpha");
    pressUndo(pane);
    expect(bodyText(pane)).toBe("alpha");
  });

  it("keeps the states of the last notes only", async () => {
    const { editor, pane } = setup();
    const depthAfterReturning = async (othersBetween: number): Promise<number> => {
      await editor.open(note("first", "First", ""));
      type(pane, "x");
      for (let i = 0; i < othersBetween; i++) await editor.open(note(`other${String(i)}`, "Other", ""));
      await editor.open(note("first", "First", "x"));
      return undoDepth(textView(pane).state);
    };
    expect(await depthAfterReturning(KEPT_NOTES - 1)).toBe(1);
    expect(await depthAfterReturning(KEPT_NOTES)).toBe(0);
  });

  it("parses a very long paragraph in pieces, so a keystroke re-parses one piece, and a usual one whole", async () => {
    const { editor, pane } = setup();
    const paragraphs = (body: string) => {
      const tree = ensureSyntaxTree(textView(pane).state, body.length, 10_000);
      if (tree === null) throw new Error("not parsed in time");
      return tree.topNode.getChildren("Paragraph").length;
    };
    const usual = Array.from({ length: 12 }, (_, i) => `Line ${String(i)} of a paragraph, *emphasis* and all.`).join("\n");
    await editor.open(note("usual", "Usual", usual));
    expect(paragraphs(usual)).toBe(1);
    // A pasted log without one blank line, just short enough to be highlighted.
    const log = Array.from({ length: 8_000 }, (_, i) => `2026-11-27 06:${String(i % 60)} request ${String(i)} served in ${String(i % 97)} ms`).join("\n");
    await editor.open(note("log", "Log", log));
    expect(paragraphs(log)).toBeGreaterThan(log.length / 20_000);
  });

  it("parses a long note to its end soon after it opens, so a jump to the end finds it parsed", async () => {
    // Real time: parsing works in slices of it.
    vi.useRealTimers();
    const { editor, pane } = setup();
    const body = Array.from({ length: 6_000 }, (_, i) => `Paragraph ${String(i)}, with *some* words in it.`).join("\n\n");
    await editor.open(note("long", "Long", body));
    const view = textView(pane);
    expect(syntaxTreeAvailable(view.state)).toBe(false);
    await vi.waitFor(() => {
      expect(syntaxTreeAvailable(view.state)).toBe(true);
    }, { timeout: 10_000, interval: 20 });
  }, 15_000);

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

  it("shows a note of over half a megabyte without Markdown highlighting, and a short one with it", async () => {
    const { editor, pane } = setup();
    await editor.open(note("big", "Big", `# Heading\n${"words and more words\n".repeat(30_000)}`));
    expect(textView(pane).state.facet(language)).toBeNull();
    await editor.open(note("small", "Small", "# Heading\n"));
    expect(textView(pane).state.facet(language)).not.toBeNull();
    await editor.open(note("big", "Big", `# Heading\n${"words and more words\n".repeat(30_000)}`));
    expect(textView(pane).state.facet(language)).toBeNull();
  });

  it("keeps typing a save refused when another note opens, and saves it on coming back", async () => {
    const pane = document.createElement("main");
    document.body.append(pane);
    let refuse = true;
    const saves: string[] = [];
    const editor = new NoteEditor(
      pane,
      (id, edit) => {
        if (refuse) return Promise.reject(new Error("the note is too long"));
        saves.push(edit.body);
        return Promise.resolve(note(id, edit.title, edit.body));
      },
      () => undefined,
    );
    await editor.open(note("n1", "One", "stored"));
    moveCursor(pane, 6);
    type(pane, " and typed");
    // Opening another note flushes the save, which is refused.
    await editor.open(note("n2", "Two", "other"));
    expect(bodyText(pane)).toBe("other");
    // Back on the first note (the store still has its old text): the typing is there.
    refuse = false;
    await editor.open(note("n1", "One", "stored"));
    expect(bodyText(pane)).toBe("stored and typed");
    expect(editor.hasUnsavedTyping).toBe(true);
    // A change from outside does not overwrite it either, and the retry saves it.
    editor.reload(note("n1", "One", "stored"));
    expect(bodyText(pane)).toBe("stored and typed");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(saves).toEqual(["stored and typed"]);
    expect(editor.hasUnsavedTyping).toBe(false);
  });

  it("counts a save under way as unsaved typing, so a reload then cannot undo it", async () => {
    const pane = document.createElement("main");
    document.body.append(pane);
    let finish: (saved: Note) => void = () => undefined;
    const editor = new NoteEditor(
      pane,
      () => new Promise<Note>((resolve) => { finish = resolve; }),
      () => undefined,
    );
    await editor.open(note("n1", "One", "old"));
    moveCursor(pane, 3);
    type(pane, " new");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(editor.hasUnsavedTyping).toBe(true);
    // The store still answers with the text from before the save.
    editor.reload(note("n1", "One", "old"));
    expect(bodyText(pane)).toBe("old new");
    finish(note("n1", "One", "old new"));
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.hasUnsavedTyping).toBe(false);
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

  it("shows a change made outside (the vault folder) unless typing is unsaved, keeping the cursor", async () => {
    const { editor, pane } = setup();
    await editor.open(note("n1", "Plan", "old text"));
    moveCursor(pane, 4);
    editor.reload(note("n1", "Plan", "new: old text"));
    expect(bodyText(pane)).toBe("new: old text");
    // The cursor stays before "text", where it was in the text around it.
    expect(textView(pane).state.selection.main.head).toBe(9);
    // The outside change is not the person's to undo.
    pressUndo(pane);
    expect(bodyText(pane)).toBe("new: old text");

    type(pane, "typing ");
    expect(editor.hasUnsavedTyping).toBe(true);
    editor.reload(note("n1", "Plan", "second outside change"));
    expect(bodyText(pane)).toBe("new: old typing text");
    editor.reload(note("n2", "Other", "not the open note"));
    expect(bodyText(pane)).toBe("new: old typing text");
  });

  it("marks a search's words, any case and accents, puts the cursor on the first, and unmarks on typing", async () => {
    const { editor, pane } = setup();
    const body = "Shopping\nBuy CAFÉ beans and a cafetière.\nNo decaf.";
    await editor.open(note("n1", "List", body));
    editor.showMatches(["cafe"]);
    const marked = () => [...pane.querySelectorAll(".search-match")].map((m) => m.textContent);
    expect(marked()).toEqual(["CAFÉ", "cafe"]);
    const view = textView(pane);
    expect(view.state.selection.main.head).toBe(body.indexOf("CAFÉ"));

    type(pane, "x");
    expect(marked()).toEqual([]);
  });

  it("drops the marks when another note opens, and when the marked one opens again", async () => {
    const { editor, pane } = setup();
    await editor.open(note("n1", "One", "the word"));
    editor.showMatches(["word"]);
    expect(pane.querySelectorAll(".search-match").length).toBe(1);
    await editor.open(note("n2", "Two", "word again"));
    expect(pane.querySelectorAll(".search-match").length).toBe(0);
    await editor.open(note("n1", "One", "the word"));
    expect(pane.querySelectorAll(".search-match").length).toBe(0);
  });

  it("previews the Markdown in place of the text, and opens only web and mail links", async () => {
    const opened: string[] = [];
    const { editor, pane } = setup((url) => opened.push(url));
    const body = "# Trip\n\nSee [the map](https://example.com/map) and [this](javascript:alert(1)).";
    await editor.open(note("n1", "Trip", body));
    const toggle = pane.querySelector<HTMLButtonElement>('[data-testid="toggle-preview"]');
    const preview = pane.querySelector<HTMLElement>('[data-testid="note-preview"]');
    if (!toggle || !preview) throw new Error("no preview");
    expect(preview.hidden).toBe(true);

    toggle.click();
    await vi.waitFor(() => {
      expect(preview.querySelector("h1")?.textContent).toBe("Trip");
    });
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect(preview.hidden).toBe(false);
    expect(pane.querySelector<HTMLElement>(".note-text-area")?.hidden).toBe(true);

    const links = [...preview.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/map"]);
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    links[0]?.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(opened).toEqual(["https://example.com/map"]);

    // A saved change of the open note (from outside) shows in the preview.
    editor.reload(note("n1", "Trip", "# Trip, changed"));
    await vi.waitFor(() => {
      expect(preview.querySelector("h1")?.textContent).toBe("Trip, changed");
    });

    toggle.click();
    await vi.waitFor(() => {
      expect(preview.hidden).toBe(true);
    });
    expect(bodyText(pane)).toBe("# Trip, changed");
  });
});
