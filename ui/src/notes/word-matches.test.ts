import { describe, expect, it } from "vitest";
import { findWords, MAX_MARKED } from "./word-matches";

describe("finding a search's words in a note", () => {
  const text = (...lines: string[]) => ({ lines, joined: lines.join("\n") });
  const found = (lines: string[], words: string[]) => {
    const joined = lines.join("\n");
    return findWords(lines, words).map(({ from, to }) => joined.slice(from, to));
  };

  it("matches where words begin, in any case, across lines", () => {
    const { lines, joined } = text("Garden plan", "the GARDENER's plans", "no regarding here");
    expect(found(lines, ["garden"])).toEqual(["Garden", "GARDEN"]);
    expect(findWords(lines, ["plan"]).map((r) => r.from)).toEqual([joined.indexOf("plan"), joined.indexOf("plans")]);
  });

  it("ignores accents on either side, composed or not", () => {
    const decomposed = "cafe\u0301 au lait";
    expect(found(["Un café, une CAFÉTIÈRE", decomposed], ["cafe"])).toEqual(["café", "CAFÉ", "cafe\u0301"]);
    expect(found(["a cafe here"], ["café"])).toEqual(["cafe"]);
  });

  it("counts offsets in UTF-16 units past emoji and other scripts", () => {
    expect(found(["😀 word, 日本 word", "Ωmega word"], ["word"])).toEqual(["word", "word", "word"]);
  });

  it("merges overlapping matches and ignores empty words", () => {
    expect(findWords(["meeting"], ["meet", "meeting", ""])).toEqual([{ from: 0, to: 7 }]);
    expect(findWords(["text"], [])).toEqual([]);
  });

  it(`marks at most ${String(MAX_MARKED)} places`, () => {
    const lines = Array.from({ length: MAX_MARKED + 50 }, () => "a");
    expect(findWords(lines, ["a"]).length).toBe(MAX_MARKED);
  });
});
