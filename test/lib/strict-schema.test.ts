import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { strictSchema } from "../../src/lib/create-router";

const Point = z.object({ x: z.number(), y: z.number() }).openapi("StrictTestPoint");
const Body = z
  .object({
    name: z.string().min(1),
    point: Point,
    points: z.array(Point).min(1),
    maybe: z.object({ a: z.string() }).optional(),
    either: z.union([z.object({ kind: z.literal("a") }), z.string()]),
    free: z.object({}).catchall(z.string()),
  })
  .refine((b) => b.name !== "forbidden", { message: "not that name" })
  .openapi("StrictTestBody", { description: "kept" });
const valid = { name: "n", point: { x: 1, y: 2 }, points: [{ x: 1, y: 2 }], either: { kind: "a" }, free: { k: "v" } };

describe("strictSchema", () => {
  const strict = strictSchema(Body);

  it("refuses an unknown key in every object, nested ones too, naming it", () => {
    expect(strict.safeParse(valid).success).toBe(true);
    for (const [where, body] of [
      ["root", { ...valid, extra: 1 }],
      ["object", { ...valid, point: { x: 1, y: 2, z: 3 } }],
      ["array item", { ...valid, points: [{ x: 1, y: 2, z: 3 }] }],
      ["optional", { ...valid, maybe: { a: "a", b: "b" } }],
      ["union member", { ...valid, either: { kind: "a", more: 1 } }],
    ] as const) {
      const result = strict.safeParse(body);
      expect(result.success, where).toBe(false);
      expect(result.error?.issues[0]?.code, where).toBe("unrecognized_keys");
    }
  });

  it("keeps refinements, checks, a chosen catchall, and leaves the original alone", () => {
    expect(strict.safeParse({ ...valid, name: "forbidden" }).success).toBe(false);
    expect(strict.safeParse({ ...valid, points: [] }).success).toBe(false);
    expect(strict.safeParse({ ...valid, free: { any: "string" } }).success).toBe(true);
    expect(Body.safeParse({ ...valid, extra: 1 }).success).toBe(true);
    const plain = z.string();
    expect(strictSchema(plain)).toBe(plain);
  });

  it("keeps OpenAPI names and descriptions, and says additionalProperties: false", () => {
    const registry = new OpenAPIRegistry();
    registry.register("StrictTestBody", strict);
    const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: "3.1.0",
      info: { title: "t", version: "1" },
    });
    const schemas = doc.components?.schemas as Record<string, Record<string, unknown>>;
    expect(schemas.StrictTestBody).toMatchObject({ description: "kept", additionalProperties: false });
    expect(schemas.StrictTestPoint).toMatchObject({ additionalProperties: false });
  });
});
