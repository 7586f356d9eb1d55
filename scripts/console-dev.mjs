// `npm run console:dev`: work on the console. `vite build --watch` rebuilds public/console/ on every save (about a
// tenth of a second) beside `npm start`, whose wrangler dev serves the new files on the next page load: reload the
// browser to see a change. The API, the Worker and the data are the ones `npm start` gives.
import { ensureToolchain, spawnLong } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

const { ensureConsole } = await import("./console.mjs");
ensureConsole();
const children = [
  spawnLong(process.execPath, ["scripts/console.mjs", "watch"]),
  spawnLong(process.execPath, ["scripts/start.mjs"]),
];
let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  process.exitCode = code;
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(0));
for (const child of children) child.on("exit", (code) => stop(code ?? 0));
