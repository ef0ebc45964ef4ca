// A note's Markdown as a page to read. A note may come from anywhere (another device, a file in
// the vault folder), so its text is never trusted: markdown-it shows raw HTML as text, DOMPurify
// then keeps only the elements and attributes Markdown makes, and links never move the window.
// Loaded on first use (see editor.ts).
import DOMPurify, { type Config } from "dompurify";
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: true });

// Table columns' alignment comes as a style attribute, which the sanitizer drops (a style may
// load images); a class says the same.
markdown.core.ruler.push("alignment_as_class", (state) => {
  for (const token of state.tokens) {
    const style = token.attrGet("style");
    if (style === null || token.attrs === null) continue;
    token.attrs = token.attrs.filter(([name]) => name !== "style");
    const align = /^text-align:(left|right|center)$/.exec(String(style))?.[1];
    if (align !== undefined) token.attrJoin("class", `align-${align}`);
  }
});

/** What markdown-it makes of Markdown; nothing else survives sanitizing. */
const SANITIZE: Config = {
  ALLOWED_TAGS: [
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
  ],
  ALLOWED_ATTR: ["href", "src", "alt", "title", "start", "class"],
  ALLOW_DATA_ATTR: false,
  // Links to the web and mail only. Images also take data: (DOMPurify allows it on img alone);
  // the window's CSP keeps remote images from loading.
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  // DOMPurify holds every attribute not listed as URI-safe to that pattern, which would strip
  // an ordered list's start number.
  ADD_URI_SAFE_ATTR: ["start"],
};

/** Schemes a click on a link may open, outside the app. */
const OPENABLE = new Set(["http:", "https:", "mailto:"]);

/** The rendered, sanitized Markdown, as nodes: no HTML string ever reaches the page. */
export function renderMarkdown(text: string): DocumentFragment {
  return DOMPurify.sanitize(markdown.render(text), { ...SANITIZE, RETURN_DOM_FRAGMENT: true });
}

/** Fills `target` with `text` rendered. */
export function showMarkdown(target: HTMLElement, text: string): void {
  target.replaceChildren(renderMarkdown(text));
}

/** The URL to open for a link's href, or `null` for any scheme but http, https and mailto. */
export function openableUrl(href: string): string | null {
  try {
    const url = new URL(href);
    return OPENABLE.has(url.protocol) ? url.href : null;
  } catch {
    // Relative or malformed: nothing to open.
    return null;
  }
}

/**
 * Keeps clicks on links in `preview` from navigating the window; an http(s) or mailto link
 * goes to `open` (the system browser) instead, anything else does nothing.
 */
export function guardLinks(preview: HTMLElement, open: (url: string) => void): void {
  const onClick = (event: MouseEvent): void => {
    const link = event.target instanceof Element ? event.target.closest("a") : null;
    if (link === null || !preview.contains(link)) return;
    event.preventDefault();
    // A middle click (auxclick) would open a window; it opens nothing.
    if (event.type !== "click") return;
    const url = openableUrl(link.getAttribute("href") ?? "");
    if (url !== null) open(url);
  };
  preview.addEventListener("click", onClick);
  preview.addEventListener("auxclick", onClick);
}
