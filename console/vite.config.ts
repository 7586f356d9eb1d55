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

export default defineConfig({
  plugins: [stamp()],
  root: here("."),
  base: "/console/",
  publicDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: {
    // The same Preact everywhere, whichever package asks for React.
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir: here("../public/console"),
    emptyOutDir: true,
    target: "es2022",
    manifest: true,
    // Chromium, Firefox and Safari all support modulepreload; the polyfill would add code to the first load.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
