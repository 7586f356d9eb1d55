import { existsSync, readFileSync } from "node:fs";
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
