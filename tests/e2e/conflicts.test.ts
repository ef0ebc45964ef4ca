// The conflict center in the real app: a second device (the `quire` CLI) edits the same
// line; the app shows the badge, both texts side by side with the differing words marked;
// the person takes both versions of the line and resolves; both devices end up equal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Note } from "../../ui/src/bindings/Note.ts";
import { byTestId, launchApp, screenshot, type Browser } from "./support/app.ts";
import { conflictingEdits, twoDevices } from "./support/cli.ts";
import { useSyncServer } from "./support/server.ts";

const password = "long enough pw";

function marked(browser: Browser, side: string): Promise<string[]> {
  return browser.execute(
    (testId) => Array.from(document.querySelectorAll(`[data-testid="${testId}"] mark`), (m) => m.textContent),
    side,
  );
}

describe("the conflict center", () => {
  const fixture = useSyncServer("conflicts");

  it("shows both sides word by word, resolves per part, and both devices converge", async () => {
    const { root, server } = fixture;
    const devices = await twoDevices(root, server.url, "cc", password);
    const { laptop, phone, cli } = devices;
    const note = await conflictingEdits(
      devices,
      "Plan",
      "intro\nwe meet on monday at noon\nend\n",
      "intro\nwe meet on tuesday at noon\nend\n",
      "intro\nwe meet on monday at three\nend\n",
    );

    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      await byTestId(browser, "conflict-badge").waitForDisplayed({
        timeout: 20_000,
        timeoutMsg: "the note list never showed the conflict badge",
      });
      await byTestId(browser, "nav-conflicts").click();
      await byTestId(browser, "conflict-part").waitForDisplayed({ timeout: 10_000 });
      assert.deepEqual(await marked(browser, "mine-side"), ["monday", "three"]);
      assert.deepEqual(await marked(browser, "theirs-side"), ["tuesday", "noon"]);
      assert.equal(await byTestId(browser, "conflict-title").getText(), "Plan");
      await screenshot("conflict-center");

      await byTestId(browser, "take-both").click();
      const merged = "intro\nwe meet on monday at three\nwe meet on tuesday at noon\nend\n";
      assert.equal(await byTestId(browser, "merged-text").getValue(), merged);
      await byTestId(browser, "resolve").click();
      await byTestId(browser, "no-conflicts").waitForDisplayed({
        timeout: 10_000,
        timeoutMsg: "the conflict center never emptied after Resolve",
      });
      // The resolution syncs like any edit, soon, without a click.
      const status = byTestId(browser, "status-text");
      await browser.waitUntil(async () => /^Up to date · nothing pending/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the resolution never went to the server",
      });
      assert.equal(await browser.$('[data-testid="conflict-badge"]').isExisting(), false);

      await cli(phone, ["sync"]);
      assert.equal((await cli<Note>(phone, ["note", "show", note.id])).body, merged);

      await byTestId(browser, "nav-settings").click();
      await byTestId(browser, "settings").waitForDisplayed({ timeout: 5_000 });
      assert.match(await byTestId(browser, "signed-in-as").getText(), /Signed in as cc on http:\/\/127\.0\.0\.1/);
      await screenshot("settings");
      await byTestId(browser, "nav-attention").click();
      await byTestId(browser, "attention").waitForDisplayed({ timeout: 5_000 });
      await screenshot("needs-attention");
    } finally {
      await app.close();
    }
    assert.equal((await cli<Note>(laptop, ["note", "show", note.id])).body, (await cli<Note>(phone, ["note", "show", note.id])).body);
  });
});
