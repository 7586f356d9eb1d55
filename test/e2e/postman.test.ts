import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Validator } from "@cfworker/json-schema";
import newman, { type NewmanRunSummary } from "newman";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as config from "../../postman/flow.mjs";
import { openapiDocument } from "../../scripts/openapi.mjs";
import { buildPostman, coverage, generatedFiles, OUTPUT, operationsOf } from "../../scripts/postman.mjs";

// The committed collection run by Newman against `npm start`, as a Postman user's CI would run it: every request of
// the flow in order, every assertion of every test script passing, every body valid against its schema.

const ROOT = join(import.meta.dirname, "..", "..");
const FIX = "edit postman/flow.mjs, then `npm run postman`";

type Doc = Awaited<ReturnType<typeof openapiDocument>>;
type Item = {
  name: string;
  request: { method: string; url: { path: string[] }; body?: { raw?: string }; auth?: { type: string } };
};
type Folder = { name: string; item: (Item | Folder)[] };
const collection = JSON.parse(readFileSync(join(ROOT, OUTPUT.collection), "utf8"));
const environment = JSON.parse(readFileSync(join(ROOT, OUTPUT.environment), "utf8"));

/** Every request of the collection, folders flattened. */
function requestsOf(nodes: (Item | Folder)[]): Item[] {
  return nodes.flatMap((node) => ("item" in node ? requestsOf(node.item) : [node]));
}
const requests = requestsOf(collection.item);

const keyOf = (request: Item) =>
  `${request.request.method} /${request.request.url.path.map((part) => part.replace(/^:(.+)$/, "{$1}")).join("/")}`;

/** The operations of postman/flow.mjs as "METHOD /path", in flow order. */
function flowKeys(doc: Doc): string[] {
  return config.flow.map((step: { op: string }) => {
    const operation = operationsOf(doc).find((candidate: { id: string }) => candidate.id === step.op);
    return operation ? `${operation.method} ${operation.path}` : `(no operation ${step.op})`;
  });
}

/** The operation ("METHOD /path") of each request Newman ran, in run order. */
function executedKeys(summary: NewmanRunSummary): string[] {
  const byName = new Map(requests.map((request) => [request.name, request]));
  return summary.run.executions.map((execution) => {
    const request = byName.get(execution.item.name);
    return request ? keyOf(request) : `(no request named ${execution.item.name})`;
  });
}

/** The document's operation of a request. */
function operationOf(doc: Doc, request: Item) {
  return operationsOf(doc).find(
    (candidate: { method: string; path: string }) => `${candidate.method} ${candidate.path}` === keyOf(request),
  );
}

/** The JSON Schema of an operation's request body, resolved against the whole document. */
function requestValidator(doc: Doc, request: Item) {
  const schema = operationOf(doc, request)?.op.requestBody?.content?.["application/json"]?.schema;
  return schema ? new Validator({ ...schema, components: doc.components }, "2020-12", false) : undefined;
}

function runNewman(baseUrl: string): Promise<{ summary: NewmanRunSummary; sent: Map<string, string | undefined> }> {
  const sent = new Map<string, string | undefined>();
  return new Promise((resolve, reject) => {
    newman
      .run(
        {
          collection,
          environment,
          envVar: [{ key: "base_url", value: baseUrl }],
          reporters: [],
          // Bounded: a hung request or script fails the run instead of the suite's timeout.
          timeout: 120_000,
          timeoutRequest: 15_000,
          timeoutScript: 5_000,
        },
        (error, summary) => (error ? reject(error) : resolve({ summary, sent })),
      )
      .on("request", (_error, args) => {
        sent.set(args.item.name, args.request.body?.raw);
      });
  });
}

function failuresOf(summary: NewmanRunSummary): string[] {
  return summary.run.failures.map(
    (failure) =>
      `${failure.source?.name ?? "(collection)"}: ${failure.error.test ?? failure.at}: ${failure.error.message}`,
  );
}

let doc: Doc;
beforeAll(async () => {
  doc = await openapiDocument();
});

describe("the Postman collection", () => {
  it("runs or lists every operation of the document, and lists none it does not have", () => {
    const { unlisted, both, unknown } = coverage(doc);
    expect(unlisted, `in neither the flow nor notRun of postman/flow.mjs: ${unlisted.join(", ")}`).toEqual([]);
    expect(both, `in both the flow and notRun: ${both.join(", ")}`).toEqual([]);
    expect(unknown, `in postman/flow.mjs but not in the document: ${unknown.join(", ")}`).toEqual([]);
    for (const [id, entry] of Object.entries(config.notRun as Record<string, { why?: string }>)) {
      expect(entry.why, `notRun.${id} says why it is not run`).toMatch(/\w{3,}/);
    }
  });

  it("is what `npm run postman` makes from today's document", async () => {
    const { files } = await generatedFiles(doc);
    for (const [path, text] of Object.entries(files)) {
      expect(readFileSync(join(ROOT, path), "utf8") === text, `${path} is stale: run \`npm run postman\``).toBe(true);
    }
  });

  it("changes when a response schema changes, so a route changed without `npm run postman` fails check:drift", async () => {
    const changed = structuredClone(doc);
    const task = changed.components.schemas.Task;
    task.properties.priority = { type: "integer" };
    task.required = [...(task.required ?? []), "priority"];
    const { files } = await generatedFiles(changed);
    const committed = readFileSync(join(ROOT, OUTPUT.collection), "utf8");
    expect(committed).not.toContain("priority");
    expect(files[OUTPUT.collection]).toContain('\\"priority\\"'); // in a test script's schema, a JSON string in JSON
  });

  it("refuses a flow that does not fit the document, naming every problem", async () => {
    const misfit = [
      { op: "getTask" },
      { op: "listTasks", query: { colour: "red" } },
      { op: "createTask", set: { task_id: "identifier" } },
      { op: "patchTask", path: { id: "{{unknown_id}}" }, body: { status: "done" } },
    ];
    // flow.mjs is plain JavaScript: its inferred type is the exact shape of today's steps, which a misfit is not.
    const built = buildPostman(doc, { ...config, flow: misfit, notRun: {} } as unknown as typeof config);
    await expect(built).rejects.toThrow(/getTask: the flow gives no value for path variable id/);
    await expect(built).rejects.toThrow(/listTasks: query parameter colour is not in the document/);
    await expect(built).rejects.toThrow(/createTask: keeps task_id from body\.identifier, which its 201 response/);
    await expect(built).rejects.toThrow(/patchTask .*uses \{\{unknown_id\}\} before any step of the flow keeps it/);
  });

  it("signs in at the collection level with Bearer {{access_token}}, from the environment's base_url", () => {
    expect(collection.auth).toEqual({
      type: "bearer",
      bearer: [{ key: "token", value: "{{access_token}}", type: "string" }],
    });
    expect(environment.values.map((value: { key: string }) => value.key)).toContain("base_url");
    for (const request of requests) expect(JSON.stringify(request.request.url)).toContain("{{base_url}}");
  });

  it("sends no token where the document lets anyone in (the catalog reads among them), and one everywhere else", () => {
    const open: string[] = [];
    for (const request of requests) {
      const security: Record<string, string[]>[] = operationOf(doc, request)?.op.security ?? [];
      const anyone = security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0);
      if (anyone) {
        open.push(request.name);
        expect(request.request.auth, `${request.name} is open to anyone`).toEqual({ type: "noauth" });
      } else {
        // No auth of its own inherits the collection's Bearer {{access_token}}; the cursor routes name their token.
        expect(request.request.auth?.type ?? "bearer", `${request.name} needs a token`).toBe("bearer");
      }
    }
    expect(open).toEqual(
      expect.arrayContaining(["List products", "Read one product", "Sign in with email and password"]),
    );
  });

  it("carries example bodies that are valid against their schemas (those with variables are checked as sent)", () => {
    const run = new Set(flowKeys(doc));
    let checked = 0;
    for (const request of requests) {
      const raw = request.request.body?.raw;
      if (raw === undefined) continue;
      const validator = requestValidator(doc, request);
      expect(validator, `${request.name} has a body but its operation takes no JSON body`).toBeDefined();
      if (/\{\{[^}]+\}\}/.test(raw)) {
        expect(
          run.has(keyOf(request)),
          `${request.name}: a body with variables is checked as sent, so it must run`,
        ).toBe(true);
        continue;
      }
      const result = validator!.validate(JSON.parse(raw));
      expect(result.errors, `${request.name}: its example body is invalid`).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe("a Newman run of the committed collection against npm start", () => {
  let summary: NewmanRunSummary;
  let sent: Map<string, string | undefined>;
  beforeAll(async () => {
    ({ summary, sent } = await runNewman(inject("baseUrl")));
  }, 150_000);

  it("passes every assertion of every request", () => {
    expect((summary.run as { error?: unknown }).error, "the run stopped").toBeFalsy();
    expect(failuresOf(summary), `Newman's failures (${FIX} if the flow needs another value)`).toEqual([]);
  });

  it("runs the flow of postman/flow.mjs in order, every request with assertions and none skipped", () => {
    expect(executedKeys(summary)).toEqual(flowKeys(doc));
    for (const execution of summary.run.executions) {
      expect(execution.assertions?.length, `${execution.item.name} asserted nothing`).toBeGreaterThanOrEqual(3);
      expect(
        execution.assertions.filter((assertion) => assertion.skipped).map((assertion) => assertion.assertion),
        `${execution.item.name} skipped assertions`,
      ).toEqual([]);
    }
  });

  it("sent bodies that are valid against their schemas", () => {
    const byName = new Map(requests.map((request) => [request.name, request]));
    const withBody = summary.run.executions
      .map((execution) => byName.get(execution.item.name)!)
      .filter((r) => r.request.body?.raw);
    expect(withBody.length).toBeGreaterThan(0);
    for (const request of withBody) {
      const body = sent.get(request.name);
      expect(body, `${request.name} sent no body`).toBeTruthy();
      const result = requestValidator(doc, request)!.validate(JSON.parse(body!));
      expect(result.errors, `${request.name} sent an invalid body: ${body}`).toEqual([]);
    }
  });

  it("signed in, refreshed and signed out, keeping and forgetting the tokens", () => {
    // Executions follow the flow (asserted above), so the n-th execution is the n-th step.
    const assertionsOf = (op: string) =>
      summary.run.executions[config.flow.findIndex((step: { op: string }) => step.op === op)]?.assertions.map(
        (assertion) => assertion.assertion,
      );
    expect(assertionsOf("login")).toContain("Keeps access_token, refresh_token for the next requests");
    expect(assertionsOf("refreshTokens")).toContain("Keeps access_token, refresh_token for the next requests");
    expect(assertionsOf("logout")).toContain("Forgets access_token, refresh_token");
  });
});

describe("the collection's checks against an API that breaks its contract", () => {
  let server: Server;
  let summary: NewmanRunSummary;
  beforeAll(async () => {
    // Answers everything 200 with every documented header and a JSON array: the right status for most reads, a body
    // no response schema of the document allows (they are all objects).
    server = createServer((_request, response) => {
      response.writeHead(200, {
        "content-type": "application/json",
        "x-request-id": "stand-in",
        "server-timing": "stand-in",
        location: "/stand-in",
        etag: '"stand-in"',
        "cache-control": "no-store",
        "content-disposition": "attachment",
      });
      response.end("[]");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("the stand-in has no port");
    ({ summary } = await runNewman(`http://127.0.0.1:${address.port}`));
  }, 150_000);
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it("fails at least one assertion of every request, and the schema check of every JSON read", () => {
    const passedAll = summary.run.executions
      .filter((execution) => execution.assertions.every((assertion) => !assertion.error))
      .map((execution) => execution.item.name);
    expect(passedAll).toEqual([]);
    const schemaPassed = summary.run.executions.flatMap((execution) =>
      execution.assertions
        .filter((assertion) => assertion.assertion.startsWith("Body matches") && !assertion.error)
        .map(() => execution.item.name),
    );
    expect(schemaPassed).toEqual([]);
    // The stand-in answers no request the way the flow needs, yet the flow still visits every request.
    expect(executedKeys(summary)).toEqual(flowKeys(doc));
  });
});
