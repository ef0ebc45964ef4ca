import type { Part } from "../bindings/Part";

/** What the person took for one conflicting part. */
export type Choice = "mine" | "theirs" | "both";

/** The text the choices make: merged parts as they are, each conflict as chosen. */
export function composeMerged(parts: Part[], choices: Choice[]): string {
  let conflict = 0;
  return parts
    .map((part) => {
      if (part.kind === "merged") return part.text;
      const choice = choices[conflict] ?? "mine";
      conflict += 1;
      switch (choice) {
        case "mine":
          return part.mine;
        case "theirs":
          return part.theirs;
        case "both":
          return part.mine === "" || part.mine.endsWith("\n") ? part.mine + part.theirs : `${part.mine}\n${part.theirs}`;
      }
    })
    .join("");
}

/** How many parts need a decision. */
export function conflictCount(parts: Part[]): number {
  return parts.filter((part) => part.kind === "conflict").length;
}
