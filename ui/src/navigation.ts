// Which view the main pane shows, and the sidebar's view buttons that show it and switch it.
import type { Layout } from "./layout";

/** What the main pane can show. The notes view is the editor; each other view has a button. */
export type View = "notes" | "conflicts" | "attention" | "trash" | "history" | "settings";

/** The views reached from a sidebar button. */
export type NavView = keyof Layout["nav"];

export interface NavigationHooks {
  /** A view's button was clicked: load that view and switch to it. */
  open(view: NavView): void;
  /** Before the notes view is left, so the editor saves what was typed. */
  leaveNotes(): Promise<void>;
  /** After every switch, so the note list marks the open note only in the notes view. */
  switched(view: View): void;
}

export class Navigation {
  private current: View = "notes";

  constructor(
    private readonly buttons: Layout["nav"],
    private readonly hooks: NavigationHooks,
  ) {
    for (const view of this.navViews()) {
      buttons[view].addEventListener("click", () => { hooks.open(view); });
    }
  }

  get view(): View {
    return this.current;
  }

  /** Makes `view` the current one; the caller fills the main pane after. */
  async switchTo(view: View): Promise<void> {
    if (this.current === "notes" && view !== "notes") await this.hooks.leaveNotes();
    this.current = view;
    for (const name of this.navViews()) {
      if (name === view) this.buttons[name].setAttribute("aria-current", "page");
      else this.buttons[name].removeAttribute("aria-current");
    }
    this.hooks.switched(view);
  }

  private navViews(): NavView[] {
    return Object.keys(this.buttons) as NavView[];
  }
}
