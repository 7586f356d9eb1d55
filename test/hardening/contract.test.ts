import { beforeAll, describe, expect, it } from "vitest";
import { type Document, declaredHeaders, openapiDocument, operationsOf, resolve, type Schema } from "./support";

/**
 * The document says everything the server enforces and sends (docs/api.md, "The contract"): what each operation
 * declares is checked against live responses by responses.test.ts and bad-input.test.ts; this file checks that the
 * declarations are there at all, on every operation, including ones added later.
 */

let doc: Document;
beforeAll(async () => {
  doc = await openapiDocument();
});

const api = () => operationsOf(doc).filter((o) => o.path.startsWith("/api/v1"));

describe("the OpenAPI document says everything", () => {
  it("declares every tag the operations use, each with a description", () => {
    const declared = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
    const used = new Set(operationsOf(doc).flatMap((o) => o.op.tags ?? []));
    expect([...used].filter((tag) => !declared.get(tag))).toEqual([]);
    expect([...declared.keys()].filter((tag) => !used.has(tag))).toEqual([]);
    expect(
      operationsOf(doc)
        .filter((o) => !o.op.tags?.length)
        .map((o) => o.key),
    ).toEqual([]);
  });

  it("states security on every operation, with separate schemes for access tokens, the console cookie and cursor session tokens", () => {
    const schemes = doc.components.securitySchemes ?? {};
    expect(schemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.cursorSessionAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(
      operationsOf(doc)
        .filter((o) => !Array.isArray(o.op.security))
        .map((o) => o.key),
    ).toEqual([]);
    const security = (key: string) => operationsOf(doc).find((o) => o.key === key)?.op.security;
    // Catalog reads: anonymous or with an access token.
    expect(security("GET /api/v1/products")).toEqual([{}, { bearerAuth: [] }, { consoleCookie: [] }]);
    expect(security("GET /api/v1/products/{sku}")).toEqual([{}, { bearerAuth: [] }, { consoleCookie: [] }]);
    // Posting events: the session's token only; the session's reads: its token or an admin's access token.
    expect(security("POST /api/v1/cursor/sessions/{id}/events")).toEqual([{ cursorSessionAuth: [] }]);
    expect(security("GET /api/v1/cursor/sessions/{id}/stats")).toEqual([
      { cursorSessionAuth: [] },
      { bearerAuth: [] },
      { consoleCookie: [] },
    ]);
    // The console's access cookie stands in for the bearer token wherever one is taken.
    expect(schemes.consoleCookie).toMatchObject({ type: "apiKey", in: "cookie", name: "__Host-access" });
    // Every scheme an operation names exists.
    const named = operationsOf(doc).flatMap((o) => (o.op.security ?? []).flatMap((r) => Object.keys(r)));
    expect(named.filter((name) => !schemes[name])).toEqual([]);
  });

  it("declares X-Request-Id on every response, Location on 201, Retry-After on 429/503, WWW-Authenticate on token 401s", () => {
    const missing: string[] = [];
    for (const { key, op } of operationsOf(doc)) {
      const takesToken = (op.security ?? []).some((r) => Object.keys(r).length > 0);
      for (const [status, response] of Object.entries(op.responses)) {
        const headers = declaredHeaders(doc, response);
        const need = ["x-request-id"];
        if (status === "201") need.push("location");
        const problem = Boolean(response.content?.["application/problem+json"]);
        if (status === "429" && problem) need.push("retry-after");
        if (status === "401" && takesToken) need.push("www-authenticate");
        for (const name of need) if (!headers.get(name)?.required) missing.push(`${key} ${status} ${name}`);
        // A 503 problem declares Retry-After; it is absent only when the deployment is misconfigured.
        if (status === "503" && problem && !headers.get("retry-after")) missing.push(`${key} 503 retry-after`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("documents a problem for 503 and for any other 5XX on every API operation", () => {
    const missing = api()
      .filter(({ op }) => !op.responses["503"]?.content?.["application/problem+json"] || !op.responses["5XX"]?.content)
      .map((o) => o.key);
    expect(missing).toEqual([]);
  });

  it("gives restricted query parameters a pattern, prices multipleOf 0.01 and PATCH bodies minProperties 1", () => {
    const unrestricted: string[] = [];
    for (const { key, op } of operationsOf(doc)) {
      for (const p of op.parameters ?? []) {
        if (p.in !== "query" || !["ordering", "fields", "omit", "status", "bucket"].includes(p.name)) continue;
        const schema = resolve(doc, p.schema);
        const variants = (schema.anyOf as Schema[] | undefined) ?? [schema];
        const patterned = variants.every((v) => v.pattern || v.enum || (v.items as Schema | undefined)?.pattern);
        if (!patterned) unrestricted.push(`${key} ${p.name}`);
      }
      const body = op.requestBody?.content["application/json"]?.schema;
      if (key.startsWith("PATCH ") && body && resolve(doc, body).minProperties !== 1) unrestricted.push(`${key} body`);
    }
    expect(unrestricted).toEqual([]);
    for (const name of ["ProductCreate", "ProductReplace", "ProductPatch", "Product"]) {
      const price = (doc.components.schemas[name]!.properties as Record<string, Schema>).price!;
      expect(resolve(doc, price).multipleOf, name).toBe(0.01);
    }
  });
});
