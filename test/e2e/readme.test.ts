import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const baseUrl = inject("baseUrl");

/** The `sh` blocks of the README's "Try it" section, in order (they share variables, as a reader's shell does). */
function tryItBlocks(readme: string): string[] {
  const start = readme.indexOf("\n## Try it");
  if (start < 0) return [];
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe("the README's snippets, run as written against npm start", () => {
  it("every block of 'Try it' succeeds with only curl and node, and shows what its comments promise", async () => {
    const blocks = tryItBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const port = new URL(baseUrl).host;
    // The only change: the address the test server listens on. Every curl fails on an HTTP error (and says so), and
    // the script stops at the first failing command, so a snippet that breaks cannot pass quietly.
    const script = [
      "set -euo pipefail",
      'curl() { command curl --fail-with-body "$@"; }',
      ...blocks.map((block) => block.replaceAll("127.0.0.1:8787", port)),
    ].join("\n");
    const { stdout } = await promisify(execFile)("bash", ["-c", script], {
      cwd: ROOT,
      timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(stdout).toContain('"title":"Order paper"');
    expect(stdout).toContain('"status":"done"');
    expect(stdout).toMatch(/etag: /i);
    expect(stdout).toMatch(/"distance":10\b/);
  });
});
