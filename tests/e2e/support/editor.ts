// The note's text in the real window. It is a CodeMirror editor: a contenteditable element
// (data-testid="note-body", CodeMirror's .cm-content), not a form field, so WebDriver's
// getValue() and setValue() do not apply to it. These read and type it as a person would.
import { Key } from "webdriverio";
import type { Browser } from "./app.ts";

/**
 * The note's text as the editor shows it: its lines (`.cm-line`) joined by "\n".
 *
 * Limitation: CodeMirror renders only the lines in and near the view, so this is the whole
 * text only for a note of up to a few hundred lines. Check a longer text through the CLI
 * (`quire note show`) once the save state says "Saved".
 */
export function editorText(browser: Browser): Promise<string> {
  return browser.execute(() => {
    const content = document.querySelector('[data-testid="note-body"]');
    if (content === null) return "";
    return Array.from(content.querySelectorAll(".cm-line"), (line) => {
      const copy = line.cloneNode(true) as Element;
      // Widgets (the empty note's "Start writing…" placeholder) are not part of the text.
      for (const widget of copy.querySelectorAll('.cm-placeholder, [contenteditable="false"]')) widget.remove();
      return copy.textContent;
    }).join("\n");
  });
}

/**
 * Types `parts`, each text or a key (`Key.Enter`, `Key.Backspace`), letting go of each key
 * before the next, so a repeated letter is typed twice. For modifiers, see pressCtrl.
 */
export async function pressKeys(browser: Browser, ...parts: string[]): Promise<void> {
  const action = browser.action("key");
  for (const part of parts) {
    for (const key of Array.from(part)) action.down(key).up(key);
  }
  await action.perform();
}

/** Ctrl (Cmd on a Mac) with `key`: Ctrl+End, Ctrl+F. */
export async function pressCtrl(browser: Browser, key: string): Promise<void> {
  await browser.action("key").down(Key.Ctrl).down(key).up(key).up(Key.Ctrl).perform();
}

/**
 * Types at the end of the note's text: clicks into it, goes to the end (Ctrl+End), types the
 * parts as pressKeys does. A newline is `Key.Enter` ("\n" is no keystroke to WebKitWebDriver):
 * `typeInEditor(browser, "first line", Key.Enter, "second line")`.
 */
export async function typeInEditor(browser: Browser, ...parts: string[]): Promise<void> {
  const body = browser.$('[data-testid="note-body"]');
  await body.waitForDisplayed({ timeout: 5_000 });
  await body.click();
  await pressCtrl(browser, Key.End);
  await pressKeys(browser, ...parts);
}

/** The texts of the places a search marked in the open note (`.search-match`), in order. */
export function markedInEditor(browser: Browser): Promise<string[]> {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="note-body"] .search-match'), (mark) => mark.textContent),
  );
}
