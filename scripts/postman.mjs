// `npm run postman`: the Postman collection and environment in postman/, made from the OpenAPI document.
//
// Postman's own converter (openapi-to-postmanv2, the one behind Postman's "Import") turns the document into a
// v2.1 collection with a folder per tag; this script then adds what a converter cannot know, from postman/flow.mjs:
// the collection's Bearer auth and each request's own (none for anonymous routes, the session token for cursor
// routes), the values the flow sends, a test script per request (its documented status, required headers and body
// schema, the variables it keeps for the next requests, and the next request of the flow), and a pre-request script
// where a request needs fresh values. The converter's random ids become ids derived from names and its fake values
// come from a seeded generator, so the same document always gives the same bytes.
//
//   node scripts/postman.mjs   writes postman/*.json and the generated tables in docs/postman.md; `npm run check:drift`
//                              fails, with a diff, when the committed ones are not what generatedFiles() makes
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import converter from "openapi-to-postmanv2";
import * as config from "../postman/flow.mjs";
import { ROOT } from "./lib.mjs";
import { openapiDocument } from "./openapi.mjs";

export const OUTPUT = {
  collection: "postman/edge-backoffice.postman_collection.json",
  environment: "postman/edge-backoffice.postman_environment.json",
  docs: "docs/postman.md",
};

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
const CONVERTER_OPTIONS = {
  folderStrategy: "Tags",
  parametersResolution: "Example",
  requestNameSource: "Fallback",
  enableOptionalParameters: false,
  alwaysInheritAuthentication: true,
  includeAuthInfoInExample: false,
  // Without these the converter gives up on nested schemas ("Too many levels of nesting to fake this schema").
  optimizeConversion: false,
  stackLimit: 20,
};

/** Every operation of the document, in document order. */
export function operationsOf(doc) {
  const operations = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) operations.push({ id: op.operationId, method: method.toUpperCase(), path, op });
    }
  }
  return operations;
}

/** Operations in neither list, in both, and list entries the document no longer has. */
export function coverage(doc, { flow, notRun } = config) {
  const ids = operationsOf(doc).map((operation) => operation.id);
  const run = new Set(flow.map((step) => step.op));
  const listed = new Set(Object.keys(notRun));
  return {
    unlisted: ids.filter((id) => !run.has(id) && !listed.has(id)),
    both: ids.filter((id) => run.has(id) && listed.has(id)),
    unknown: [...new Set([...run, ...listed])].filter((id) => !ids.includes(id)),
  };
}

/** A UUID (version 5 layout) derived from `text`: the same text, the same id. */
function uuidFrom(text) {
  const hex = createHash("sha1").update(`edge-backoffice postman ${text}`).digest("hex");
  const variant = ((Number.parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** mulberry32: a small seeded generator standing in for Math.random while the converter fakes values. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The converter fakes values where the document gives no example (response bodies, patterned query strings) with
// the json-schema-faker copy it ships, which takes its random numbers from its `random` option (Math.random when
// loaded) and in places from Math.random itself: both are seeded afresh for each conversion. Its date-times count
// back from the clock, so they get one fixed instant instead.
const faker = createRequire(import.meta.url)("openapi-to-postmanv2/assets/json-schema-faker.js");
faker.format("date-time", () => "2026-01-01T12:00:00.000Z");

async function convert(doc) {
  const random = Math.random;
  Math.random = seeded(0x5eed);
  faker.option({ random: seeded(0xfa6e) });
  try {
    return await new Promise((resolve, reject) => {
      converter.convertV2({ type: "json", data: structuredClone(doc) }, CONVERTER_OPTIONS, (error, result) => {
        if (error) reject(error);
        else if (!result.result) reject(new Error(`openapi-to-postmanv2: ${result.reason}`));
        else resolve(result.output[0].data);
      });
    });
  } finally {
    Math.random = random;
  }
}

const ref = (doc, value) => {
  let node = value;
  for (let hops = 0; node?.$ref && hops < 10; hops++) {
    node = node.$ref
      .slice(2)
      .split("/")
      .reduce((at, key) => at?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  }
  return node;
};

// JSON Schema keywords whose value is a schema, a list of schemas or a map of schemas: the walkers below descend only
// through these, so a property that happens to be called "description" or "example" is never taken for a keyword.
const SUBSCHEMA = ["additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "additionalItems"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
// Annotations that validate nothing: left out of the schema a test script carries.
const ANNOTATIONS = new Set([
  "description",
  "example",
  "examples",
  "title",
  "default",
  "discriminator",
  "xml",
  "externalDocs",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$comment",
  "contentMediaType",
  "contentEncoding",
]);

/**
 * The response schema as one self-contained JSON Schema for Postman's `jsonSchema` assertion (ajv, draft-07): the
 * component schemas it uses go under `definitions`, annotations are dropped, and a `$ref` with siblings (which
 * draft-07 would ignore) becomes an `allOf`.
 */
export function testSchema(doc, schema) {
  const definitions = {};
  const pending = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== "object") return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (ANNOTATIONS.has(key)) continue;
      if (key === "$ref") {
        const name = value.replace("#/components/schemas/", "");
        if (!(name in definitions)) {
          definitions[name] = null;
          pending.push(name);
        }
        out.$ref = `#/definitions/${name}`;
      } else if (SUBSCHEMA.includes(key) || key === "items") out[key] = walk(value);
      else if (SUBSCHEMA_LISTS.includes(key)) out[key] = value.map(walk);
      else if (SUBSCHEMA_MAPS.includes(key)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, walk(sub)]));
      } else out[key] = value;
    }
    if (out.$ref && Object.keys(out).length > 1) {
      const { $ref, ...rest } = out;
      return { allOf: [{ $ref }], ...rest };
    }
    return out;
  };
  const root = walk(schema);
  while (pending.length > 0) {
    const name = pending.shift();
    definitions[name] = walk(doc.components.schemas[name]);
  }
  return Object.keys(definitions).length > 0 ? { ...root, definitions } : root;
}

/** The schema at `parts` (property names and array indexes) inside `schema`, or undefined when it has none. */
function schemaAt(doc, schema, parts) {
  const node = ref(doc, schema);
  if (parts.length === 0) return node;
  if (!node || typeof node !== "object") return undefined;
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    for (const branch of node[key] ?? []) {
      const found = schemaAt(doc, branch, parts);
      if (found) return found;
    }
  }
  const [head, ...rest] = parts;
  if (/^\d+$/.test(head) && node.items) return schemaAt(doc, node.items, rest);
  if (node.properties?.[head]) return schemaAt(doc, node.properties[head], rest);
  return undefined;
}

/** A JavaScript name for a variable's value in a script (variable names may hold dashes or dots). */
const identifier = (name) => name.replace(/[^\w$]/g, "_").replace(/^(\d)/, "_$1");

/** `body.items[0].id` for "items.0.id". */
function accessor(path) {
  return `body${path
    .split(".")
    .map((part) =>
      /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`,
    )
    .join("")}`;
}

/** A step's JSON body as Postman shows it; raw("name") values become {{name}} without quotes. */
function bodyText(body) {
  const text = JSON.stringify(body, (_key, value) => (value?.[config.RAW] ? `@@raw:${value[config.RAW]}@@` : value), 2);
  return text.replace(/"@@raw:([^@]+)@@"/g, "{{$1}}");
}

const variablesIn = (text) => [...String(text).matchAll(/\{\{([^{}]+)\}\}/g)].map((match) => match[1]);

/**
 * The documented success of an operation: its lowest 2xx status (101 for a WebSocket upgrade), the response, its JSON
 * schema and its required headers.
 */
function successOf(doc, op) {
  const codes = Object.keys(op.responses ?? {}).filter((code) => /^\d\d\d$/.test(code));
  const status = [...codes.filter((code) => code.startsWith("2")), ...codes.filter((code) => code === "101")]
    .map(Number)
    .sort((a, b) => a - b)[0];
  if (status === undefined) return undefined;
  const response = ref(doc, op.responses[String(status)]);
  const types = Object.keys(response.content ?? {});
  const json = types.find((type) => /[/+]json$/.test(type));
  const headers = Object.entries(response.headers ?? {})
    .filter(([, header]) => ref(doc, header)?.required)
    .map(([name]) => name);
  return { status, type: json ?? types[0], schema: json ? response.content[json].schema : undefined, headers };
}

const describe = (description, extra) => {
  const content = [description?.content ?? description ?? "", ...extra].filter(Boolean).join("\n\n");
  return { content, type: "text/markdown" };
};

/** The test script of one request: the contract of its operation, then what the flow needs from it. */
function testScript(doc, operation, success, step, next) {
  const lines = [
    `// The contract of ${operation.id} (${operation.method} ${operation.path}) from the OpenAPI document, generated by`,
    "// `npm run postman`: change postman/flow.mjs or the route, then regenerate; edits here are overwritten.",
  ];
  if (next !== undefined) {
    lines.push(
      next === null
        ? "pm.execution.setNextRequest(null); // the flow ends here"
        : `pm.execution.setNextRequest(${JSON.stringify(next)}); // the next request of the flow`,
    );
  }
  lines.push(
    `pm.test("Status is ${success.status}", function () {`,
    `  pm.response.to.have.status(${success.status});`,
    "});",
  );
  if (success.headers.length > 0) {
    lines.push(`pm.test("Headers ${success.headers.join(", ")} are present", function () {`);
    for (const header of success.headers) lines.push(`  pm.response.to.have.header(${JSON.stringify(header)});`);
    lines.push("});");
  }
  if (success.type) {
    lines.push(
      `pm.test("Content-Type is ${success.type}", function () {`,
      `  pm.expect(pm.response.headers.get("Content-Type")).to.include(${JSON.stringify(success.type)});`,
      "});",
    );
  } else {
    lines.push('pm.test("No body", function () {', '  pm.expect(pm.response.text()).to.equal("");', "});");
  }
  if (success.schema) {
    const name = success.schema.$ref?.split("/").pop();
    lines.push(
      `const schema = ${JSON.stringify(testSchema(doc, success.schema))};`,
      `pm.test("Body matches ${name ? `the ${name} schema` : "the documented schema"}", function () {`,
      "  pm.response.to.have.jsonSchema(schema);",
      "});",
    );
  }
  const set = Object.entries(step?.set ?? {});
  if (set.length > 0) {
    lines.push(`pm.test("Keeps ${set.map(([name]) => name).join(", ")} for the next requests", function () {`);
    lines.push("  const body = pm.response.json();");
    for (const [name, from] of set) {
      const expression = typeof from === "string" ? accessor(from) : from.js;
      const label = JSON.stringify(typeof from === "string" ? `body.${from}` : from.js);
      lines.push(
        `  const ${identifier(name)} = ${expression};`,
        `  pm.expect(${identifier(name)}, ${label}).to.not.be.oneOf([undefined, null, ""]);`,
        `  pm.collectionVariables.set(${JSON.stringify(name)}, ${identifier(name)});`,
      );
    }
    lines.push("});");
  }
  if (step?.forget?.length) {
    lines.push(`pm.test("Forgets ${step.forget.join(", ")}", function () {`);
    for (const name of step.forget) lines.push(`  pm.collectionVariables.set(${JSON.stringify(name)}, "");`);
    lines.push("});");
  }
  return lines;
}

/** The pre-request script of a step that makes fresh values. */
function preRequestScript(step) {
  return [
    "// Fresh values for this run, kept for the requests after it too (generated by `npm run postman`).",
    ...Object.entries(step.pre).map(([name, js]) => `pm.collectionVariables.set(${JSON.stringify(name)}, ${js});`),
  ];
}

/**
 * The Bearer token variable of a request: undefined inherits the collection's, null sends none. An operation open to
 * anyone (`security: []`, or a `{}` requirement) sends none; otherwise the first requirement whose scheme has a
 * variable in postman/flow.mjs decides.
 */
function authOf(doc, operation, step, schemes) {
  if (step?.auth) return { auth: step.auth };
  const security = operation.op.security ?? doc.security;
  if (!security) return { auth: undefined };
  if (security.length === 0) return { auth: null };
  const collectionVariable = collectionToken(schemes);
  for (const requirement of security) {
    const names = Object.keys(requirement);
    if (names.length === 0) return { auth: null };
    const [name] = names;
    if (name in schemes) return { auth: schemes[name] === collectionVariable ? undefined : schemes[name] };
  }
  return {
    auth: null,
    problem: `${operation.id}: none of its security schemes (${security.flatMap(Object.keys).join(", ")}) has a variable in securitySchemes (postman/flow.mjs)`,
  };
}

/** The collection's own token variable: the first scheme's in postman/flow.mjs (every request inherits it). */
const collectionToken = (schemes) => Object.values(schemes)[0];

const bearer = (variable) => ({ type: "bearer", bearer: [{ key: "token", value: `{{${variable}}}`, type: "string" }] });

/** One request of the collection, made from the converter's item for `operation`. */
function requestItem(doc, base, operation, step, context) {
  const { errors, position, why, next } = context;
  const item = structuredClone(base);
  const name = step?.name ?? base.name;
  const where = `${operation.id}${step?.name ? ` (“${step.name}”)` : ""}`;
  item.id = uuidFrom(`request ${operation.id} ${name}`);
  item.name = name;
  delete item.request.name;

  const url = item.request.url;
  url.host = ["{{base_url}}"];
  const known = new Set((url.query ?? []).map((param) => param.key));
  for (const key of Object.keys(step?.query ?? {})) {
    if (!known.has(key)) errors.push(`${where}: query parameter ${key} is not in the document`);
  }
  for (const param of url.query ?? []) {
    if (step?.query && param.key in step.query) {
      param.value = step.query[param.key];
      param.disabled = false;
    }
  }
  for (const variable of url.variable ?? []) {
    if (step?.path?.[variable.key] !== undefined) variable.value = step.path[variable.key];
    else if (position !== undefined) errors.push(`${where}: the flow gives no value for path variable ${variable.key}`);
  }
  for (const key of Object.keys(step?.path ?? {})) {
    if (!(url.variable ?? []).some((variable) => variable.key === key)) {
      errors.push(`${where}: path variable ${key} is not in the document`);
    }
  }

  for (const [key, value] of Object.entries(step?.headers ?? {})) {
    item.request.header ??= [];
    const header = item.request.header.find((candidate) => candidate.key.toLowerCase() === key.toLowerCase());
    if (header) Object.assign(header, { value, disabled: false });
    else item.request.header.push({ key, value });
  }

  if (step?.body !== undefined) {
    if (!operation.op.requestBody) errors.push(`${where}: the flow gives a body, the operation takes none`);
    item.request.body = { mode: "raw", raw: bodyText(step.body), options: { raw: { language: "json" } } };
  }

  const { auth, problem } = authOf(doc, operation, step, context.schemes);
  if (problem) (position !== undefined ? errors : context.warnings).push(problem);
  if (auth === null) item.request.auth = { type: "noauth" };
  else if (auth) item.request.auth = bearer(auth);
  else delete item.request.auth;

  const success = successOf(doc, operation.op);
  if (!success) {
    errors.push(`${operation.id}: the document gives it no 2xx (or 101) response to test`);
    return { item, used: [] };
  }
  const flowNote =
    position !== undefined
      ? `**In the flow:** ${step.note ?? "runs as documented."}`
      : why
        ? `**Not run unattended:** ${why}.`
        : "**Not in the flow** and not listed in postman/flow.mjs `notRun`.";
  item.request.description = describe(item.request.description, [flowNote]);

  item.event = [];
  if (step?.pre)
    item.event.push({ listen: "prerequest", script: { type: "text/javascript", exec: preRequestScript(step) } });
  item.event.push({
    listen: "test",
    script: { type: "text/javascript", exec: testScript(doc, operation, success, step, next) },
  });

  for (const [variable, from] of Object.entries(step?.set ?? {})) {
    if (typeof from === "string" && !schemaAt(doc, success.schema, from.split("."))) {
      errors.push(`${where}: keeps ${variable} from body.${from}, which its ${success.status} response does not have`);
    }
  }

  item.response = (item.response ?? [])
    .filter((response) => response.code === success.status)
    .map((response) => {
      const example = { ...response, id: uuidFrom(`response ${operation.id} ${name} ${response.code}`) };
      if (example.originalRequest?.url) example.originalRequest.url.host = ["{{base_url}}"];
      return example;
    });

  const used = [
    ...(url.variable ?? []).flatMap((variable) => variablesIn(variable.value)),
    ...(url.query ?? []).filter((param) => !param.disabled).flatMap((param) => variablesIn(param.value)),
    ...(item.request.header ?? []).flatMap((header) => variablesIn(header.value)),
    ...variablesIn(item.request.body?.raw ?? ""),
    // The token it sends: its own, or the collection's when it inherits that and is not open to anyone.
    ...(auth ? [auth] : auth === undefined && operation.op.security?.length ? [collectionToken(context.schemes)] : []),
  ];
  return { item, used };
}

/** `a`, `b` in Markdown. */
const code = (names) => names.map((name) => `\`${name}\``).join(", ");

/** Markdown tables for docs/postman.md: the flow, and what is not run unattended. */
function docsTables(flowRows, notRunRows) {
  const cell = (text) => String(text).replaceAll("|", "\\|");
  const flow = [
    "| # | folder | request | operation | keeps for the next requests |",
    "|---|---|---|---|---|",
    ...flowRows.map((row, index) => {
      const keeps = [code(row.keeps), row.forgets.length > 0 ? `forgets ${code(row.forgets)}` : ""].filter(Boolean);
      return `| ${index + 1} | ${row.folder} | ${cell(row.name)} | \`${row.method} ${row.path}\` | ${keeps.join("; ")} |`;
    }),
  ].join("\n");
  const notRun = [
    "| request | operation | why |",
    "|---|---|---|",
    ...notRunRows.map((row) => `| ${cell(row.name)} | \`${row.method} ${row.path}\` | ${cell(row.why)} |`),
  ].join("\n");
  return { flow, "not-run": notRun };
}

/**
 * The collection, the environment and the docs tables made from `doc`. Throws, listing every problem, when the
 * configuration does not fit the document; `warnings` names operations that are in neither list.
 */
export async function buildPostman(doc, { flow, notRun, securitySchemes, environment } = config) {
  const errors = [];
  const operations = operationsOf(doc);
  for (const operation of operations) {
    if (!operation.id) errors.push(`${operation.method} ${operation.path} has no operationId`);
  }
  const byKey = new Map(
    operations.map((operation) => [`${operation.method} ${operation.path.replace(/\{([^}]+)\}/g, ":$1")}`, operation]),
  );
  const byId = new Map(operations.map((operation) => [operation.id, operation]));
  const converted = await convert(doc);

  // The converter's folders (one per tag) and requests, each request matched to its operation.
  const folders = [];
  const baseItems = new Map();
  const visit = (nodes, folder) => {
    for (const node of nodes) {
      if (node.item) {
        const child = { name: node.name, description: node.description, operations: [] };
        folders.push(child);
        visit(node.item, child);
        continue;
      }
      const key = `${node.request.method} /${node.request.url.path.join("/")}`;
      const operation = byKey.get(key);
      if (!operation) {
        errors.push(`the converter made a request ${key} that matches no operation`);
        continue;
      }
      baseItems.set(operation.id, { node, folder: folder ?? root });
      (folder ?? root).operations.push(operation.id);
    }
  };
  const root = { name: undefined, operations: [] };
  visit(converted.item, undefined);
  for (const operation of operations) {
    if (!baseItems.has(operation.id)) errors.push(`${operation.id}: the converter made no request for it`);
  }

  const { unlisted, both, unknown } = coverage(doc, { flow, notRun });
  for (const id of both) errors.push(`${id} is both in the flow and in notRun (postman/flow.mjs)`);
  const warnings = [
    ...unlisted.map((id) => `${id} is neither in the flow nor in notRun (postman/flow.mjs): add it to one of them`),
    ...unknown.map((id) => `${id} is in postman/flow.mjs but not in the document: remove or rename it`),
  ];

  const steps = flow.filter((step) => byId.has(step.op));
  const stepName = (step) => step.name ?? baseItems.get(step.op)?.node.name;
  const defined = new Set([...environment.values.map((value) => value.key)]);
  const setBy = new Map();
  const items = new Map(); // folder → [{ order, item }]
  const add = (folder, order, item) => {
    if (!items.has(folder)) items.set(folder, []);
    items.get(folder).push({ order, item });
  };
  const flowRows = [];
  steps.forEach((step, position) => {
    const operation = byId.get(step.op);
    const base = baseItems.get(step.op);
    if (!base) return;
    for (const name of Object.keys(step.pre ?? {})) defined.add(name);
    const next = position + 1 < steps.length ? stepName(steps[position + 1]) : null;
    const { item, used } = requestItem(doc, base.node, operation, step, {
      errors,
      warnings,
      position,
      next,
      schemes: securitySchemes,
    });
    for (const name of used) {
      if (!name.startsWith("$") && !defined.has(name)) {
        errors.push(`${step.op} (“${item.name}”) uses {{${name}}} before any step of the flow keeps it`);
      }
    }
    for (const name of [...Object.keys(step.pre ?? {}), ...Object.keys(step.set ?? {})]) {
      defined.add(name);
      if (!setBy.has(name)) setBy.set(name, item.name);
    }
    add(base.folder, position, item);
    flowRows.push({
      folder: base.folder.name ?? "(top level)",
      name: item.name,
      method: operation.method,
      path: operation.path,
      keeps: Object.keys(step.set ?? {}),
      forgets: step.forget ?? [],
    });
  });

  const notRunRows = [];
  operations.forEach((operation, index) => {
    if (steps.some((step) => step.op === operation.id) || !baseItems.has(operation.id)) return;
    const entry = notRun[operation.id];
    const { item, used } = requestItem(doc, baseItems.get(operation.id).node, operation, entry, {
      errors,
      warnings,
      why: entry?.why,
      schemes: securitySchemes,
    });
    for (const name of used) {
      if (!name.startsWith("$") && !defined.has(name)) {
        errors.push(`${operation.id} (not run) uses {{${name}}}, which no step of the flow keeps`);
      }
    }
    add(baseItems.get(operation.id).folder, steps.length + index, item);
    if (entry) notRunRows.push({ name: item.name, method: operation.method, path: operation.path, why: entry.why });
  });

  const names = new Map();
  for (const list of items.values()) {
    for (const { item } of list) names.set(item.name, (names.get(item.name) ?? 0) + 1);
  }
  for (const [name, count] of names) {
    if (count > 1) errors.push(`${count} requests are named “${name}”: give the repeated step a name of its own`);
  }
  if (errors.length > 0) {
    throw new Error(`postman/flow.mjs does not fit the OpenAPI document:\n  - ${errors.join("\n  - ")}`);
  }

  // Folders in the order the flow first visits them, then the rest in the document's tag order; in each folder, the
  // flow's requests in flow order, then the others in document order. Newman and the Collection Runner start with
  // the collection's first request (the flow's first) and follow setNextRequest from there.
  const ordered = (folder) => items.get(folder)?.sort((a, b) => a.order - b.order) ?? [];
  const firstOrder = (folder) => ordered(folder)[0]?.order ?? Number.POSITIVE_INFINITY;
  const sortedFolders = folders.filter((folder) => items.has(folder)).sort((a, b) => firstOrder(a) - firstOrder(b));
  const topLevel = [
    ...ordered(root).map(({ item }) => item),
    ...sortedFolders.map((folder) => ({
      id: uuidFrom(`folder ${folder.name}`),
      name: folder.name,
      description: folder.description,
      item: ordered(folder).map(({ item }) => item),
    })),
  ];

  const tokenVariable = collectionToken(securitySchemes);
  const signIn = steps.find((step) => tokenVariable in (step.set ?? {}));
  const steps3 = [
    `1. Import this collection and the environment, and pick the environment (it holds ${code(environment.values.map((value) => value.key))}).`,
    `2. Send “${signIn ? stepName(signIn) : "Sign in"}”: its test script keeps ${code(Object.keys(signIn?.set ?? { [tokenVariable]: "" }))}; every request sends \`Bearer {{${tokenVariable}}}\` unless it says otherwise (the anonymous ones send none).`,
    `3. Send any request, or run the collection: the Collection Runner (and \`newman run\`) follows the flow from “${steps[0] ? stepName(steps[0]) : ""}” to the last request, each one keeping the ids the next ones use.`,
  ];
  const description = [
    doc.info.description,
    `Generated by \`npm run postman\` from the OpenAPI document (version ${doc.info.version}); docs/postman.md tells the whole story.`,
    steps3.join("\n"),
    notRunRows.length > 0
      ? `Not run unattended (in their folders all the same):\n${notRunRows.map((row) => `- ${row.name}: ${row.why}.`).join("\n")}`
      : "",
  ]
    .filter(Boolean)
    .join("\n\n");

  const collection = {
    info: {
      _postman_id: uuidFrom(`collection ${doc.info.title}`),
      name: doc.info.title,
      description: { content: description, type: "text/markdown" },
      schema: SCHEMA_URL,
    },
    auth: bearer(tokenVariable),
    variable: [...setBy].map(([key, by]) => ({
      key,
      value: "",
      type: "string",
      description: `Set by “${by}”.`,
    })),
    item: topLevel,
  };
  const environmentFile = {
    id: uuidFrom(`environment ${environment.name}`),
    name: environment.name,
    values: environment.values.map(({ key, value, type }) => ({ key, value, type: type ?? "default", enabled: true })),
    _postman_variable_scope: "environment",
  };
  return { collection, environment: environmentFile, tables: docsTables(flowRows, notRunRows), warnings };
}

/** docs/postman.md with its generated tables replaced. */
export function withTables(markdown, tables) {
  let out = markdown;
  for (const [name, table] of Object.entries(tables)) {
    const pattern = new RegExp(`(<!-- generated: ${name} -->)[\\s\\S]*?(<!-- end: ${name} -->)`);
    if (!pattern.test(out))
      throw new Error(`${OUTPUT.docs} has no <!-- generated: ${name} --> … <!-- end: ${name} -->`);
    out = out.replace(pattern, (_match, start, end) => `${start}\n${table}\n${end}`);
  }
  return out;
}

/** The three files as `npm run postman` writes them, by path relative to the repository. */
export async function generatedFiles(doc) {
  const built = await buildPostman(doc);
  const docsPath = join(ROOT, OUTPUT.docs);
  const docs = existsSync(docsPath) ? readFileSync(docsPath, "utf8") : "";
  return {
    files: {
      [OUTPUT.collection]: `${JSON.stringify(built.collection, null, 2)}\n`,
      [OUTPUT.environment]: `${JSON.stringify(built.environment, null, 2)}\n`,
      [OUTPUT.docs]: withTables(docs, built.tables),
    },
    warnings: built.warnings,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  let generated;
  try {
    generated = await generatedFiles(await openapiDocument());
  } catch (error) {
    console.error(`✗ ${error.message}`);
    process.exit(1);
  }
  for (const warning of generated.warnings) console.warn(`! ${warning}`);
  for (const [path, text] of Object.entries(generated.files)) {
    const file = join(ROOT, path);
    if (existsSync(file) && readFileSync(file, "utf8") === text) continue;
    writeFileSync(file, text);
    console.log(`• wrote ${path}`);
  }
  console.log(`✓ ${OUTPUT.collection}, ${OUTPUT.environment} and the tables in ${OUTPUT.docs} are up to date`);
}
