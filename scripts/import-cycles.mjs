// Import cycles among the TypeScript modules under a directory (`npm run check:drift` fails on any in src/).
// Type-only imports count: a cycle through `import type` still couples the two modules, and the next value
// import along it makes module order matter. Relative specifiers only; packages cannot import back into src/.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// `import ... from "x"`, `import "x"`, `export ... from "x"`, `import("x")`; comments are stripped first.
const SPECIFIER = /\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function resolveImport(from, specifier) {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Module → the modules it imports (absolute paths), for every .ts file under `dir`. */
export function importGraph(dir) {
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
  const graph = new Map();
  for (const file of files) {
    const targets = new Set();
    for (const match of stripComments(readFileSync(file, "utf8")).matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2];
      if (!specifier.startsWith(".")) continue;
      const target = resolveImport(file, specifier);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Every strongly connected group of two or more modules (or a module importing itself), paths relative to `root`. */
export function importCycles(dir, root = dir) {
  const graph = importGraph(dir);
  // Tarjan's algorithm.
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node), index.get(target)));
    }
    if (low.get(node) === index.get(node)) {
      const group = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || (graph.get(node) ?? []).includes(node)) {
        cycles.push(group.map((file) => relative(root, file)).sort());
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
  const cycles = importCycles(join(root, process.argv[2] ?? "src"), root);
  for (const cycle of cycles) console.log(cycle.join(" ⇄ "));
  process.exit(cycles.length > 0 ? 1 : 0);
}
