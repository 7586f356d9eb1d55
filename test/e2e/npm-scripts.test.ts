import { existsSync, readFileSync, statSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

describe("package.json scripts", () => {
  it("run only script files that exist in the repository", () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    const missing = Object.entries(scripts).flatMap(([name, command]) =>
      [...command.matchAll(/\bnode\s+(\S+\.m?js)\b/g)]
        .map((m) => m[1]!)
        .filter((file) => !existsSync(join(ROOT, file)))
        .map((file) => `${name}: ${file}`),
    );
    expect(missing).toEqual([]);
  });
});

describe("the console's build (scripts/console.mjs)", () => {
  it("is not rebuilt while its inputs are unchanged, and is rebuilt when they differ from the last build's", async () => {
    // A plain ES module: typed here by what the test uses (allowJs reads it, without types of its own).
    const build = (await import("../../scripts/console.mjs")) as unknown as {
      ensureConsole: (options?: { quiet?: boolean }) => boolean;
      isFresh: () => boolean;
      OUT_DIR: string;
    };
    const index = join(build.OUT_DIR, "index.html");
    const stamp = join(build.OUT_DIR, ".inputs-sha256");
    build.ensureConsole({ quiet: true }); // npm start built it already; this only makes sure
    const before = readFileSync(index, "utf8");
    const builtAt = statSync(index).mtimeMs;
    expect(build.isFresh()).toBe(true);
    expect(build.ensureConsole({ quiet: true })).toBe(false);
    expect(statSync(index).mtimeMs).toBe(builtAt);

    // A stamp from other inputs (as after editing console/ or updating a library): the next start rebuilds.
    writeFileSync(stamp, "0".repeat(64));
    const leftover = join(build.OUT_DIR, "assets", "left-by-an-older-build.js");
    writeFileSync(leftover, "");
    // What happens to index.html during the rebuild, as a watcher of the folder (wrangler dev) sees it.
    const seen: string[] = [];
    const watcher = watch(build.OUT_DIR, (event, name) => {
      if (name === "index.html") seen.push(event);
    });
    expect(build.isFresh()).toBe(false);
    expect(build.ensureConsole({ quiet: true })).toBe(true);
    expect(build.isFresh()).toBe(true);
    // The same inputs make the same files (hashed names included), so pages already open keep working.
    expect(readFileSync(index, "utf8")).toBe(before);
    // index.html was rewritten in place ("change"), never removed and made again ("rename"), so a wrangler dev
    // serving the folder never sees it missing; what the older build left is gone once the new files are out.
    await new Promise((resolve) => setTimeout(resolve, 200));
    watcher.close();
    expect(seen).toContain("change");
    expect(seen).not.toContain("rename");
    expect(existsSync(leftover)).toBe(false);
  });
});
