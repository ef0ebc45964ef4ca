// Gathers the rows the benches wrote (one JSON file each, see crates/client/benches/support)
// into the one table `make bench` prints, and writes them together as bench.json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";

interface Row {
  figure: string;
  measured: string;
  target: string;
  /** null where the target is "report it". */
  met: boolean | null;
}

const parts = ["save_enqueue", "sync", "cli", "server", "server_floods", "app", "history", "search", "check", "typing"];

function verdict(met: boolean | null): string {
  if (met === null) return "reported";
  return met ? "met" : "MISSED";
}

function main(dir: string): void {
  const rows: Row[] = [];
  for (const part of parts) {
    const file = path.join(dir, `${part}.json`);
    if (!existsSync(file)) {
      rows.push({ figure: `${part} figures`, measured: "missing: that bench did not finish", target: "", met: false });
      continue;
    }
    rows.push(...(JSON.parse(readFileSync(file, "utf8")) as Row[]));
  }
  const cores = cpus().length;
  const date = new Date().toISOString();
  console.log(`\nQuire benchmarks — ${cores} cores, release build, ${date.slice(0, 10)}\n`);
  console.log("| figure | measured | target | |");
  console.log("|---|---|---|---|");
  for (const row of rows) {
    console.log(`| ${row.figure} | ${row.measured} | ${row.target} | ${verdict(row.met)} |`);
  }
  const out = path.join(dir, "bench.json");
  writeFileSync(out, JSON.stringify({ cores, date, rows }, null, 2));
  console.log(`\nwritten to ${out}`);
  const missed = rows.filter((row) => row.met === false).length;
  if (missed > 0) {
    console.log(`${String(missed)} target${missed === 1 ? "" : "s"} missed`);
    process.exitCode = 1;
  }
}

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: node --import tsx scripts/bench-table.ts BENCH_OUT_DIR");
  process.exit(2);
}
main(dir);
