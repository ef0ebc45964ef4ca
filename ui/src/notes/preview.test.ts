import { describe, expect, it } from "vitest";
import { guardLinks, openableUrl, renderMarkdown } from "./markdown-preview";

/** Notes that try to run script or navigate; each would set `window.__xss` if it ran. */
const ATTACKS = [
  "<script>window.__xss = 1</script>",
  '<img src=x onerror="window.__xss = 1">',
  "[x](javascript:window.__xss=1)",
  "[x](JaVaScRiPt:window.__xss=1)",
  "[x](&#106;avascript:window.__xss=1)",
  "![x](javascript:window.__xss=1)",
  "<javascript:window.__xss=1>",
  '<a href="javascript:window.__xss=1">click</a>',
  '<iframe src="javascript:window.__xss=1"></iframe>',
  '<svg onload="window.__xss=1"><circle r="4"/></svg>',
  '<details open ontoggle="window.__xss=1">x</details>',
  "[x](data:text/html,<script>window.__xss=1</script>)",
  "[x](vbscript:msgbox)",
  '<style>body{background:url("https://example.com/track")}</style>',
];

function rendered(text: string): HTMLElement {
  const page = document.createElement("article");
  page.append(renderMarkdown(text));
  return page;
}

/** Everything in `page` that could run script or leave the page, described. */
function liveParts(page: HTMLElement): string[] {
  const found: string[] = [];
  for (const element of page.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    if (["script", "iframe", "svg", "object", "embed", "style", "form", "details", "math"].includes(tag)) found.push(tag);
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith("on")) found.push(`${tag}[${attribute.name}]`);
      if (attribute.name === "style") found.push(`${tag}[style]`);
      if (/^\s*(javascript|vbscript|data:text)/i.test(attribute.value)) found.push(`${tag}[${attribute.name}=${attribute.value}]`);
    }
  }
  return found;
}

describe("the Markdown preview", () => {
  it("renders Markdown: headings, emphasis, lists, code, tables with their alignment, web links", () => {
    const page = rendered(
      "# Plan\n\nSome *words* and **more**, `code`.\n\n- one\n- two\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\nSee https://example.com.",
    );
    expect(page.querySelector("h1")?.textContent).toBe("Plan");
    expect(page.querySelector("em")?.textContent).toBe("words");
    expect(page.querySelectorAll("li").length).toBe(2);
    expect(page.querySelector("code")?.textContent).toBe("code");
    expect(page.querySelector("th")?.className).toBe("align-left");
    expect(page.querySelector("td:last-child")?.className).toBe("align-right");
    expect(page.querySelector("a")?.getAttribute("href")).toBe("https://example.com");
    expect(liveParts(page)).toEqual([]);
  });

  it("keeps an ordered list's start number", () => {
    const page = rendered("3. third\n4. fourth\n");
    expect(page.querySelector("ol")?.getAttribute("start")).toBe("3");
    expect(liveParts(page)).toEqual([]);
  });

  it("keeps images inline as data, and drops other image sources but http(s)", () => {
    const page = rendered("![dot](data:image/png;base64,iVBORw0KGgo=) ![here](./local.png)");
    const sources = [...page.querySelectorAll("img")].map((img) => img.getAttribute("src"));
    expect(sources).toEqual(["data:image/png;base64,iVBORw0KGgo=", null]);
  });

  for (const attack of ATTACKS) {
    it(`shows ${attack} as nothing live`, () => {
      const page = rendered(`before ${attack} after`);
      expect(liveParts(page)).toEqual([]);
      for (const link of page.querySelectorAll("a")) {
        expect(openableUrl(link.getAttribute("href") ?? "")).not.toBeNull();
      }
      expect(page.textContent).toContain("before");
      expect(page.textContent).toContain("after");
      expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
    });
  }

  it("shows raw HTML as the text it is", () => {
    const page = rendered("<script>window.__xss = 1</script>\n\n<img src=x onerror=alert(1)>");
    expect(page.textContent).toContain("<script>window.__xss = 1</script>");
    expect(page.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("opens web and mail links, never any other scheme or a relative link", () => {
    expect(openableUrl("https://example.com/a?b#c")).toBe("https://example.com/a?b#c");
    expect(openableUrl("http://example.com")).toBe("http://example.com/");
    expect(openableUrl("mailto:me@example.com")).toBe("mailto:me@example.com");
    for (const href of ["javascript:alert(1)", " javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "notes.md", "#top", ""]) {
      expect(openableUrl(href)).toBeNull();
    }
  });

  it("never lets a click on a link move the window", () => {
    const preview = document.createElement("article");
    const opened: string[] = [];
    guardLinks(preview, (url) => opened.push(url));
    // Built by hand: the sanitizer would not let these hrefs through in the first place.
    for (const href of ["javascript:window.__xss=1", "https://example.com/", "notes.md", "mailto:me@example.com"]) {
      const link = document.createElement("a");
      link.setAttribute("href", href);
      const inner = document.createElement("em");
      inner.textContent = href;
      link.append(inner);
      preview.append(link);
      const click = new MouseEvent("click", { bubbles: true, cancelable: true });
      inner.dispatchEvent(click);
      expect(click.defaultPrevented).toBe(true);
      const middle = new MouseEvent("auxclick", { bubbles: true, cancelable: true, button: 1 });
      inner.dispatchEvent(middle);
      expect(middle.defaultPrevented).toBe(true);
    }
    expect(opened).toEqual(["https://example.com/", "mailto:me@example.com"]);
  });
});
