// One side of a side-by-side view (the conflict center, History): its text as runs, the
// words that differ from the other side marked.
import type { Span } from "./bindings/Span";
import { el } from "./dom";

export function spans(list: Span[]): HTMLElement {
  return el(
    "div",
    { class: "side-text" },
    ...list.map((span) => (span.changed ? el("mark", {}, span.text) : document.createTextNode(span.text))),
  );
}
