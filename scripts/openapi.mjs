// The OpenAPI document as the app serves it at /openapi.json, made offline (no server, no workerd): src/app.ts is
// bundled with esbuild (wrangler's own), with `cloudflare:workers` stubbed (only the Durable Object class and its
// stub helper import it, and neither runs to answer /openapi.json), and asked for the route in Node.
// Generators of files derived from the contract (the console's API types, the Postman collection) start here.
//   node scripts/openapi.mjs            prints the document
//   node scripts/openapi.mjs <file>     writes it to <file>
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./lib.mjs";

/** The document, parsed. */
export async function openapiDocument() {
  const dir = mkdtempSync(join(tmpdir(), "edge-backoffice-openapi-"));
  const outfile = join(dir, "app.mjs");
  try {
    await build({
      entryPoints: [join(ROOT, "src", "app.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile,
      logLevel: "error",
      plugins: [
        {
          name: "cloudflare-workers-stub",
          setup(b) {
            b.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: "stub", namespace: "cloudflare-stub" }));
            b.onLoad({ filter: /.*/, namespace: "cloudflare-stub" }, () => ({
              contents: "export class DurableObject {}\nexport const env = {};\n",
            }));
          },
        },
      ],
    });
    const { createApp } = await import(pathToFileURL(outfile).href);
    // The request log line would go to stdout, which may be the document itself.
    const log = console.log;
    console.log = () => {};
    try {
      const response = await createApp().request("/openapi.json", {}, {});
      if (response.status !== 200) throw new Error(`/openapi.json answered ${response.status}`);
      return await response.json();
    } finally {
      console.log = log;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const text = `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
  if (process.argv[2]) writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
}
