import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const baseUrl = inject("baseUrl");

/** The `sh` blocks of a Markdown file's "Try it" section, in order (they share variables, as a reader's shell does). */
function tryItBlocks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const start = text.indexOf("\n## Try it");
  if (start < 0) return [];
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Runs the blocks in one bash as written, with one change: the address the test server listens on. Every curl fails
 * on an HTTP error (and says so), and the script stops at the first failing command, so a snippet that breaks cannot
 * pass quietly. Only curl and node are on the PATH a reader needs.
 */
async function run(blocks: string[]): Promise<string> {
  const host = new URL(baseUrl).host;
  const script = [
    "set -euo pipefail",
    'curl() { command curl --fail-with-body "$@"; }',
    ...blocks.map((block) => block.replaceAll("127.0.0.1:8787", host)),
  ].join("\n");
  const { stdout } = await promisify(execFile)("bash", ["-c", script], {
    cwd: ROOT,
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return stdout;
}

describe("the documentation's snippets, run as written against npm start", () => {
  it("README: every block of 'Try it' succeeds with only curl and node, and shows what its comments promise", async () => {
    const blocks = tryItBlocks("README.md");
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const stdout = await run(blocks);
    expect(stdout).toContain('"title":"Order paper"');
    expect(stdout).toContain('"status":"done"');
    expect(stdout).toMatch(/etag: /i);
    expect(stdout).toMatch(/server-timing: d1;desc="rt=\d+ read=\d+ written=\d+"/i);
    expect(stdout).toMatch(/"distance":10\b/);
  });

  // docs/accounts.md is left out on purpose: its snippets need a token from a mail (test/e2e/accounts-by-mail.test.ts drives
  // that flow with a MailChannels stand-in) and lock the demo member out for LOGIN_WINDOW_SECONDS.
  it.each([
    ["docs/tasks.md", /"ids"|204/],
    ["docs/products.md", /x-cache: HIT/i],
    ["docs/mail.md", /&lt;script&gt;/],
    ["docs/cursor.md", /204/],
  ])("%s: 'Try it' succeeds as written", async (file, promise) => {
    const blocks = tryItBlocks(file);
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    expect(await run(blocks)).toMatch(promise);
  });
});
