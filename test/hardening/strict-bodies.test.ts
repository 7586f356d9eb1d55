import { beforeAll, describe, expect, it } from "vitest";
import { CALLERS, MATRIX, type MatrixRow, makeWorld, send, tokenOf, type World } from "./operations";
import { type Document, openapiDocument, operationsOf, resolve, type Schema } from "./support";

/**
 * Strict bodies everywhere: every operation of /openapi.json that takes a JSON body answers 422 to an unknown field,
 * at the top of the body and inside every nested object of it, and says so in the document
 * (`additionalProperties: false` on every object of the body schema). The valid bodies come from the operation
 * table, so a new operation with a body is covered as soon as it has its row there.
 */

let doc: Document;
let w: World;

beforeAll(async () => {
  doc = await openapiDocument();
  w = await makeWorld();
});

/** Every object schema reachable in a request body schema, with where it sits. */
function objectSchemas(schema: Schema, at: string, seen = new Set<Schema>()): [string, Schema][] {
  const s = resolve(doc, schema);
  if (seen.has(s)) return [];
  seen.add(s);
  const out: [string, Schema][] = [];
  if (s.type === "object" || s.properties) out.push([at, s]);
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    out.push(...objectSchemas(child, `${at}.${name}`, seen));
  }
  if (s.items && typeof s.items === "object") out.push(...objectSchemas(s.items as Schema, `${at}[]`, seen));
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const part of (s[key] ?? []) as Schema[]) out.push(...objectSchemas(part, at, seen));
  }
  return out;
}

/** Paths (as key lists) of every plain object inside a JSON value, the root first. */
function objectPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.length > 0 ? objectPaths(value[0], [...path, 0]) : [];
  if (!value || typeof value !== "object") return [];
  return [path, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...path, key]))];
}

function withUnknownField(body: unknown, path: (string | number)[]): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path) node = node[key] as Record<string | number, unknown>;
  node.surely_not_a_field = "x";
  return copy;
}

function privileged(row: MatrixRow, built: Parameters<typeof tokenOf>[1]) {
  if (row.session) return tokenOf(w, built, "own");
  const caller = (["superuser", "member", "admin", "other", "anonymous"] as const).find(
    (c) => row.expect[CALLERS.indexOf(c)]! < 300,
  );
  return tokenOf(w, built, caller ?? "superuser");
}

const withBody = () => operationsOf(doc).filter((o) => o.op.requestBody?.content["application/json"]);

describe("strict JSON bodies on every operation", () => {
  it("the document closes every object of every request body", () => {
    const open: string[] = [];
    for (const operation of withBody()) {
      const schema = operation.op.requestBody!.content["application/json"]!.schema;
      for (const [at, object] of objectSchemas(schema, "$")) {
        if (object.additionalProperties !== false) open.push(`${operation.key} ${at}`);
      }
    }
    expect(withBody().length).toBeGreaterThan(0);
    expect(open).toEqual([]);
  });

  it("an unknown field anywhere in a valid body is a 422 naming it, and the valid body itself is accepted", async () => {
    const failures: string[] = [];
    for (const operation of withBody()) {
      const row = MATRIX[operation.key];
      if (!row) {
        failures.push(`${operation.key}: no row in test/hardening/operations.ts`);
        continue;
      }
      const sample = await row.build(w);
      for (const path of objectPaths(sample.json)) {
        const built = await row.build(w);
        const res = await send({ ...built, json: withUnknownField(built.json, path) }, privileged(row, built));
        const where = `${operation.key} at ${["$", ...path].join(".")}`;
        if (res.status !== 422) {
          failures.push(`${where}: ${res.status}`);
          await res.body?.cancel();
          continue;
        }
        const problem = (await res.json()) as { errors?: { path: string; message: string }[] };
        if (!problem.errors?.some((e) => e.message.includes("surely_not_a_field"))) {
          failures.push(`${where}: the problem does not name the field (${JSON.stringify(problem.errors)})`);
        }
      }
      // The same request without the extra field succeeds, so the 422 above is about the field alone.
      const built = await row.build(w);
      const res = await send(built, privileged(row, built));
      if (res.status >= 300) failures.push(`${operation.key}: the valid body answers ${res.status}`);
      await res.body?.cancel();
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
