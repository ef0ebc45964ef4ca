import { describe, expect, it } from "vitest";
import { buildLayout } from "./layout";
import { Navigation, type View } from "./navigation";

/** A Navigation over a real sidebar, recording what it asks of the app, in order. */
function navigation(): { nav: ReturnType<typeof buildLayout>["nav"]; navigation: Navigation; asked: string[] } {
  const { nav } = buildLayout();
  const asked: string[] = [];
  const navigation = new Navigation(nav, {
    open: (view) => asked.push(`open ${view}`),
    leaveNotes: () => {
      asked.push("leave notes");
      return Promise.resolve();
    },
    switched: (view: View) => asked.push(`switched ${view}`),
  });
  return { nav, navigation, asked };
}

function current(nav: ReturnType<typeof buildLayout>["nav"]): string[] {
  return Object.entries(nav)
    .filter(([, button]) => button.getAttribute("aria-current") === "page")
    .map(([name]) => name);
}

describe("navigation", () => {
  it("starts on the notes view with no view button marked", () => {
    const { nav, navigation: views } = navigation();
    expect(views.view).toBe("notes");
    expect(current(nav)).toEqual([]);
  });

  it("asks the app to open the view whose button was clicked, without switching itself", () => {
    const { nav, navigation: views, asked } = navigation();
    nav.attention.click();
    nav.settings.click();
    expect(asked).toEqual(["open attention", "open settings"]);
    expect(views.view).toBe("notes");
  });

  it("lets the editor save before leaving the notes view, and marks only the current button", async () => {
    const { nav, navigation: views, asked } = navigation();
    await views.switchTo("conflicts");
    expect(views.view).toBe("conflicts");
    expect(current(nav)).toEqual(["conflicts"]);
    await views.switchTo("settings");
    expect(current(nav)).toEqual(["settings"]);
    await views.switchTo("notes");
    expect(current(nav)).toEqual([]);
    expect(asked).toEqual(["leave notes", "switched conflicts", "switched settings", "switched notes"]);
  });

  it("does not leave the notes view when staying on it", async () => {
    const { navigation: views, asked } = navigation();
    await views.switchTo("notes");
    expect(asked).toEqual(["switched notes"]);
  });
});
