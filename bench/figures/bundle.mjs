// The deployable Worker's size from `wrangler deploy --dry-run --outdir`.
import { readFileSync } from "node:fs";
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
