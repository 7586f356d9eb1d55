// Copies the front-end libraries the Worker serves as static assets from npm into public/vendor (no CDN).
// Runs on `npm install` (postinstall), `npm start`, `npm test` and before deploy.
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib.mjs";

const files = [
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui.css"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui-bundle.js"],
  ["swagger-ui-dist/favicon-32x32.png", "swagger-ui-dist/favicon-32x32.png"],
  ["uplot/dist/uPlot.iife.min.js", "uplot/uPlot.iife.min.js"],
  ["uplot/dist/uPlot.min.css", "uplot/uPlot.min.css"],
];

for (const [from, to] of files) {
  const source = join(ROOT, "node_modules", from);
  if (!existsSync(source)) {
    console.error(`vendor: ${from} is missing; run npm install`);
    process.exit(1);
  }
  const target = join(ROOT, "public", "vendor", to);
  mkdirSync(join(target, ".."), { recursive: true });
  cpSync(source, target);
}
