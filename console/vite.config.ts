import { readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { stampWhenBuilt } from "../scripts/console.mjs";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The console is built into public/console/, which the Worker's ASSETS binding serves: its hashed files at
 * /console/assets/*, and its index.html for the console's routes (the SPA fallback in src/app.ts). No plugin is
 * needed: Vite's own transform compiles TSX for Preact, and the build emits no inline script (the CSP forbids it).
 */
/** Records which inputs the build in public/console/ was made from, so scripts/console.mjs can tell it is fresh. */
function stamp(): Plugin {
  const { start, done } = stampWhenBuilt();
  return { name: "inputs-stamp", apply: "build", buildStart: start, closeBundle: done };
}

/**
 * Removes what the last build left and this one did not write, once this one's files are out. Emptying the folder
 * first instead (emptyOutDir) leaves a moment with no index.html, and a `wrangler dev` serving the folder (npm start
 * beside `npm run console:dev`) can take that moment as its asset list and answer 404 until the next change.
 */
function pruneStale(outDir: string): Plugin {
  return {
    name: "prune-stale",
    apply: "build",
    writeBundle(_options, bundle) {
      const assets = join(outDir, "assets");
      for (const entry of readdirSync(assets, { recursive: true, withFileTypes: true })) {
        const file = join(entry.parentPath, entry.name);
        if (entry.isFile() && !(relative(outDir, file) in bundle)) rmSync(file);
      }
    },
  };
}

const outDir = here("../public/console");

export default defineConfig({
  plugins: [stamp(), pruneStale(outDir)],
  root: here("."),
  base: "/console/",
  publicDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: {
    // The same Preact everywhere, whichever package asks for React.
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir,
    // pruneStale() removes the last build's leftovers after this one is written, so index.html is never missing.
    emptyOutDir: false,
    target: "es2022",
    manifest: true,
    // Chromium, Firefox and Safari all support modulepreload; the polyfill would add code to the first load.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
