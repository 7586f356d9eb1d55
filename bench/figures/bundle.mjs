// The deployable Worker's size from `wrangler deploy --dry-run --outdir`, and the console's first load.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { round } from "../lib/load.mjs";

export const TARGET_GZIP_KB = 300;

export function bundleFigure(scriptPath) {
  const raw = readFileSync(scriptPath);
  const gzip = gzipSync(raw, { level: 9 }).length;
  const gzipKb = round(gzip / 1024, 1);
  return {
    file: "index.js (wrangler deploy --dry-run --outdir)",
    raw_kb: round(raw.length / 1024, 1),
    gzip_kb: gzipKb,
    target_gzip_kb: TARGET_GZIP_KB,
    pass: gzipKb < TARGET_GZIP_KB,
  };
}

export const CONSOLE_TARGET_GZIP_KB = 80;

/**
 * The console's first load for its sign-in page, from the build's manifest (public/console/.vite/manifest.json):
 * the entry chunk (what index.html loads), every chunk it imports statically, and the sign-in page's own chunk with
 * its static imports (the router loads it as soon as the app starts on /sign-in). Each file gzip -9, summed. Other
 * pages' chunks load only when opened and are not counted.
 */
export function consoleFigure(outDir) {
  const manifest = JSON.parse(readFileSync(join(outDir, ".vite", "manifest.json"), "utf8"));
  const files = new Set();
  const visit = (key) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  visit("index.html");
  visit("src/pages/sign-in.tsx");
  if (!files.size) throw new Error("the console manifest has no index.html entry");
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    if (!file.endsWith(".js")) continue;
    const bytes = readFileSync(join(outDir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  const gzipKb = round(gzip / 1024, 1);
  return {
    page: "/sign-in (first load: entry chunk, its imports, the sign-in chunk)",
    js_files: [...files].filter((f) => f.endsWith(".js")).length,
    raw_kb: round(raw / 1024, 1),
    gzip_kb: gzipKb,
    target_gzip_kb: CONSOLE_TARGET_GZIP_KB,
    pass: gzipKb <= CONSOLE_TARGET_GZIP_KB,
  };
}
