import { env } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { hashPassword } from "../../src/auth/passwords";
import { signAccessToken } from "../../src/auth/tokens";
import type { Role } from "../../src/db/schema";
import { api, call, type TestUser } from "../helpers";

/**
 * Shared machinery of the hardening suite: the OpenAPI document as the app serves it, JSON Schema validation of
 * bodies and headers against it, a snapshot of every table, and a cheap way to make users of every role.
 */

export type Schema = { [keyword: string]: unknown };
export type DocumentedResponse = {
  description: string;
  headers?: Record<string, { $ref?: string; required?: boolean; schema?: Schema }>;
  content?: Record<string, { schema: Schema }>;
};
export type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: "path" | "query" | "header"; required?: boolean; schema: Schema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, DocumentedResponse>;
};
export type Document = {
  paths: Record<string, Record<string, Operation>>;
  tags?: { name: string; description?: string }[];
  components: {
    schemas: Record<string, Schema>;
    headers?: Record<string, { required?: boolean; schema?: Schema; description?: string }>;
    securitySchemes?: Record<string, Record<string, unknown>>;
  };
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
// JSON Schema 2020-12 validation with @cfworker/json-schema (it runs inside workerd: no code generation with
// `new Function`, which rules Ajv out). The document's `#/components/schemas/X` refs are rewritten to `#/$defs/X` so
// one validator holds the schema with every component it refers to.

const validators = new WeakMap<Document, Map<string, Validator>>();

function validatorFor(doc: Document, schema: Schema): Validator {
  const byKey = validators.get(doc) ?? new Map<string, Validator>();
  validators.set(doc, byKey);
  const key = JSON.stringify(schema);
  let validator = byKey.get(key);
  if (!validator) {
    const root = JSON.parse(
      JSON.stringify({ ...schema, $defs: doc.components.schemas }).replaceAll('"#/components/schemas/', '"#/$defs/'),
    );
    validator = new Validator(root, "2020-12", false);
    byKey.set(key, validator);
  }
  return validator;
}

/** Every way `value` breaks `schema`, as "location: problem" lines; empty when it conforms. */
export function validate(doc: Document, schema: Schema, value: unknown): string[] {
  const result = validatorFor(doc, schema).validate(value);
  return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Response headers

/**
 * Headers every response carries for reasons outside the contract of one operation: transport, the security
 * headers and CORS (docs/hardening.md). Every other header a response sends must be declared on its status.
 */
const TRANSPORT_AND_POLICY_HEADERS = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "date",
  "connection",
  "vary",
  "upgrade",
  "sec-websocket-accept",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "content-security-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "origin-agent-cluster",
  "referrer-policy",
  "strict-transport-security",
  "x-content-type-options",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-frame-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
]);
const isTransportOrPolicy = (name: string) =>
  TRANSPORT_AND_POLICY_HEADERS.has(name) || name.startsWith("access-control-");

type DeclaredHeader = { required?: boolean; schema?: Schema; $ref?: string };

/** The headers a documented response declares, by lower-case name, refs resolved. */
export function declaredHeaders(doc: Document, response: DocumentedResponse): Map<string, DeclaredHeader> {
  const out = new Map<string, DeclaredHeader>();
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const target = header.$ref ? doc.components.headers?.[header.$ref.replace("#/components/headers/", "")] : header;
    if (!target) throw new Error(`unresolvable header $ref ${header.$ref}`);
    out.set(name.toLowerCase(), target);
  }
  return out;
}

/** Required headers that are missing, sent headers that are not declared, and values that break their schema. */
export function headerViolations(doc: Document, where: string, response: DocumentedResponse, res: Response) {
  const declared = declaredHeaders(doc, response);
  const out: string[] = [];
  for (const [name, header] of declared) {
    const value = res.headers.get(name);
    if (value === null) {
      if (header.required) out.push(`${where}: required header ${name} is missing`);
      continue;
    }
    if (header.schema) out.push(...validate(doc, header.schema, value).map((e) => `${where}: header ${name} ${e}`));
  }
  for (const [name] of res.headers) {
    if (!isTransportOrPolicy(name) && !declared.has(name)) out.push(`${where}: header ${name} is not declared`);
  }
  return out;
}

/**
 * Checks a response against the operation's documented responses: the status must be listed (a 5xx may fall under
 * `5XX`), its headers must be the declared ones (required ones present, nothing undeclared beyond transport and
 * policy headers), and its body must match the documented schema for its content type (no body where none is
 * documented). Returns the violations.
 */
export async function responseViolations(doc: Document, operation: Op, res: Response): Promise<string[]> {
  const documented =
    operation.op.responses[String(res.status)] ?? (res.status >= 500 ? operation.op.responses["5XX"] : undefined);
  if (!documented) return [`${operation.key}: status ${res.status} is not documented`];
  const headers = headerViolations(doc, `${operation.key} ${res.status}`, documented, res);
  return [...headers, ...(await bodyViolations(doc, operation, documented, res))];
}

async function bodyViolations(doc: Document, operation: Op, documented: DocumentedResponse, res: Response) {
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
  // A documented text body that is not JSON (a CSV export) is a string: it must not be empty.
  if (!/json/.test(contentType)) {
    const violations = validate(doc, media.schema, text).map((e) => `${operation.key} ${res.status}: ${e}`);
    return text.length > 0 ? violations : [`${operation.key}: empty ${contentType} body`];
  }
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
    "INSERT INTO users (id, email, username, password_hash, role, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(user.id, user.email, user.username, await sharedHash, role, now, now, now)
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
