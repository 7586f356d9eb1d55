import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { hashPassword } from "../../src/auth/passwords";
import { signAccessToken } from "../../src/auth/tokens";
import type { Role } from "../../src/db/schema";
import { api, call, type TestUser } from "../helpers";

/**
 * Shared machinery of the hardening suite: the OpenAPI document as the app serves it, a small JSON-Schema validator
 * for the subset that document uses (it runs inside workerd, where code generation with `new Function` is not
 * allowed, so Ajv is out), a snapshot of every table, and a cheap way to make users of every role.
 */

export type Schema = { [keyword: string]: unknown };
export type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: { name: string; in: "path" | "query" | "header"; required?: boolean; schema: Schema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
export type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
export type Op = { key: string; method: string; path: string; op: Operation };

export async function openapiDocument(): Promise<Document> {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** Every operation as "METHOD /path", in document order. */
export function operationsOf(doc: Document): Op[] {
  const out: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) out.push({ key: `${method.toUpperCase()} ${path}`, method, path, op });
    }
  }
  return out;
}

export function resolve(doc: Document, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; typeof current.$ref === "string"; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${String(schema.$ref)}`);
    const name = (current.$ref as string).replace("#/components/schemas/", "");
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unresolvable $ref ${String(current.$ref)}`);
    current = target;
  }
  return current;
}

/** The documented JSON body schema of an operation's request, resolved. */
export function requestSchema(doc: Document, op: Operation): Schema | undefined {
  const schema = op.requestBody?.content["application/json"]?.schema;
  return schema ? resolve(doc, schema) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// A JSON-Schema (2020-12 subset) validator. Unknown keywords throw, so a schema feature this file does not
// understand fails the suite instead of being waved through.

const ANNOTATIONS = new Set([
  "description",
  "example",
  "examples",
  "default",
  "title",
  "deprecated",
  "readOnly",
  "writeOnly",
  "discriminator",
  "$schema",
  "$id",
]);
const KEYWORDS = new Set([
  "$ref",
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "pattern",
  "format",
  "allOf",
  "anyOf",
  "oneOf",
]);

const FORMATS: Record<string, (value: string) => boolean> = {
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  "date-time": (v) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  uri: (v) => URL.canParse(v),
};

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "object":
      return typeOf(value) === "object";
    default:
      return typeOf(value) === type;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every way `value` breaks `schema`, as "path: problem" lines; empty when it conforms. */
export function validate(doc: Document, schema: Schema, value: unknown, at = "$"): string[] {
  const errors: string[] = [];
  for (const keyword of Object.keys(schema)) {
    if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword)) {
      throw new Error(`validator: unsupported keyword '${keyword}' at ${at}`);
    }
  }
  if (typeof schema.$ref === "string") return validate(doc, resolve(doc, schema), value, at);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => hasType(value, t))) {
      return [`${at}: expected ${types.join(" | ")}, got ${typeOf(value)}`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => sameJson(e, value))) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if ("const" in schema && !sameJson(schema.const, value))
    errors.push(`${at}: must be ${JSON.stringify(schema.const)}`);

  if (typeof value === "string") {
    const length = [...value].length;
    if (typeof schema.minLength === "number" && length < schema.minLength) errors.push(`${at}: shorter than minLength`);
    if (typeof schema.maxLength === "number" && length > schema.maxLength) errors.push(`${at}: longer than maxLength`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
      errors.push(`${at}: does not match ${schema.pattern}`);
    }
    if (typeof schema.format === "string") {
      const check = FORMATS[schema.format];
      if (!check) throw new Error(`validator: unsupported format '${schema.format}' at ${at}`);
      if (!check(value)) errors.push(`${at}: ${JSON.stringify(value)} is not a valid ${schema.format}`);
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${at}: below minimum`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${at}: above maximum`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) errors.push(`${at}: too low`);
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) errors.push(`${at}: too high`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) errors.push(`${at}: too few items`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) errors.push(`${at}: too many items`);
    if (schema.items && typeof schema.items === "object") {
      value.forEach((item, i) => {
        errors.push(...validate(doc, schema.items as Schema, item, `${at}[${i}]`));
      });
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) errors.push(`${at}: missing required '${name}'`);
    }
    for (const [name, child] of Object.entries(object)) {
      if (properties[name]) errors.push(...validate(doc, properties[name], child, `${at}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property '${name}'`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        errors.push(...validate(doc, schema.additionalProperties as Schema, child, `${at}.${name}`));
      }
    }
  }
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf as Schema[]) errors.push(...validate(doc, part, value, at));
  }
  if (Array.isArray(schema.anyOf)) {
    const ok = (schema.anyOf as Schema[]).some((part) => validate(doc, part, value, at).length === 0);
    if (!ok) errors.push(`${at}: matches none of anyOf`);
  }
  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as Schema[]).filter((part) => validate(doc, part, value, at).length === 0).length;
    if (matches !== 1) errors.push(`${at}: matches ${matches} of oneOf (exactly one expected)`);
  }
  return errors;
}

/**
 * Checks a response against the operation's documented responses: the status must be listed, and its body must
 * match the documented schema for its content type (no body where none is documented). Returns the violations.
 */
export async function responseViolations(doc: Document, operation: Op, res: Response): Promise<string[]> {
  const documented = operation.op.responses[String(res.status)];
  if (!documented) return [`${operation.key}: status ${res.status} is not documented`];
  const text = res.status === 101 ? "" : await res.text();
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!documented.content) {
    return text.length > 0 ? [`${operation.key} ${res.status}: a body where none is documented`] : [];
  }
  if (res.status === 101 || res.status === 304) return [];
  const media = documented.content[contentType];
  if (!media) {
    return [`${operation.key} ${res.status}: content type '${contentType}' is not documented`];
  }
  // A documented binary body (a download) has no JSON to check.
  if ((media.schema as Schema | undefined)?.format === "binary")
    return text.length > 0 ? [] : [`${operation.key}: empty download`];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${operation.key} ${res.status}: body is not JSON`];
  }
  return validate(doc, media.schema, body).map((e) => `${operation.key} ${res.status}: ${e}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Database snapshots

/**
 * Every table's rows as one string each, to prove a rejected request changed nothing at all. Rows are sorted by
 * their JSON (not by rowid: a WITHOUT ROWID table such as cursor_rollups has none).
 */
export async function snapshot(): Promise<Record<string, string>> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  const names = results.map((r) => r.name);
  const dumps = await env.DB.batch(names.map((name) => env.DB.prepare(`SELECT * FROM "${name}"`)));
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    out[name] = JSON.stringify((dumps[i]?.results ?? []).map((row) => JSON.stringify(row)).sort());
  });
  return out;
}

/**
 * Waits until background work (queue consumers, waitUntil) has stopped changing the database for `quietMs`, so a
 * snapshot taken next reflects only what the next request does. Queue batches wait up to max_batch_timeout (2 s for
 * mail) before they are consumed, so a short quiet window can end before the consumer starts.
 */
export async function settle(quietMs = 300): Promise<Record<string, string>> {
  let previous = await snapshot();
  let quietSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const next = await snapshot();
    if (JSON.stringify(next) !== JSON.stringify(previous)) {
      previous = next;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return next;
  }
  throw new Error("the database never settled");
}

/** Tables whose rows differ between two snapshots. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]);
}

// ---------------------------------------------------------------------------------------------------------------
// Users

let sharedHash: Promise<string> | undefined;
export const SHARED_PASSWORD = "hardening-password-1";
let counter = 0;

/** A user of any role, inserted straight into D1 with one shared scrypt hash (hashing per user is slow). */
export async function makeUser(role: Role = "member"): Promise<TestUser> {
  sharedHash ??= hashPassword(SHARED_PASSWORD);
  counter += 1;
  const tag = `h${role.slice(0, 2)}${counter}-${crypto.randomUUID().slice(0, 8)}`;
  const user = { id: crypto.randomUUID(), email: `${tag}@test.local`, username: tag, password: SHARED_PASSWORD, role };
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO users (id, email, username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(user.id, user.email, user.username, await sharedHash, role, now, now)
    .run();
  return { ...user, token: await signAccessToken(env, user) };
}

export type Callers = {
  member: TestUser;
  other: TestUser;
  admin: TestUser;
  superuser: TestUser;
};

export async function makeCallers(): Promise<Callers> {
  const [member, other, admin, superuser] = await Promise.all([
    makeUser("member"),
    makeUser("member"),
    makeUser("admin"),
    makeUser("superuser"),
  ]);
  return { member, other, admin, superuser };
}

// ---------------------------------------------------------------------------------------------------------------
// Resources

export async function makeTask(owner: TestUser, title = "hardening task"): Promise<{ id: string }> {
  const res = await api("/tasks", { method: "POST", token: owner.token, json: { title } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

export async function makeProduct(admin: TestUser): Promise<{ sku: string }> {
  const res = await api("/products", {
    method: "POST",
    token: admin.token,
    json: { name: `Hardening ${crypto.randomUUID().slice(0, 6)}`, brand: "Acme", price: 12.5 },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { sku: string };
}

export async function makeNotification(owner: TestUser): Promise<{ id: string }> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO notifications (id, user_id, kind, title, body, created_at) VALUES (?, ?, 'task.expiring', 'Soon', 'A task expires soon.', ?)",
  )
    .bind(id, owner.id, Date.now())
    .run();
  return { id };
}

export async function makeOutboxRow(): Promise<{ id: string }> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO outbox (id, recipient_email, subject, text_body, html_body, kind, status, attempts, created_at, updated_at) VALUES (?, 'someone@test.local', 'Hi', 'Hi', '<p>Hi</p>', 'task.expiring', 'recorded', 0, ?, ?)",
  )
    .bind(id, now, now)
    .run();
  return { id };
}

export type CursorSessionFixture = { id: string; token: string };

export async function makeCursorSession(): Promise<CursorSessionFixture> {
  const res = await api("/cursor/sessions", { method: "POST", json: { viewport: { width: 800, height: 600 } } });
  expect(res.status).toBe(201);
  return (await res.json()) as CursorSessionFixture;
}

/** A few events safely in the past, in time order. */
export function cursorEvents(count = 3, start = Date.now() - 30_000) {
  return Array.from({ length: count }, (_, i) => ({ x: i * 3, y: i * 4, t: start + i * 100 }));
}

/** One JSON line per suite, so counts can be read off a run: `npx vitest run test/hardening --silent=false`. */
export function printSummary(suite: string, counts: Record<string, number>) {
  console.log(`HARDENING_SUMMARY ${JSON.stringify({ suite, ...counts })}`);
}
