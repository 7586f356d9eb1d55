import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parse } from "smol-toml";
import { describe, expect, it, vi } from "vitest";
import { cronJobs } from "../../src/cron";
import { handleQueue, queueHandlers, queueKey } from "../../src/queues";
import wranglerToml from "../../wrangler.toml?raw";

/**
 * wrangler.toml against the code, parsed with a real TOML parser: the crons and queues the platform will deliver
 * must be exactly the ones the dispatchers know (a typo only logs "unknown cron ignored" at run time), every consumer
 * setting is written out, and [env.production] repeats every binding, consumer and setting of the top level, since
 * wrangler inherits none of them into an environment.
 */

interface Consumer {
  queue: string;
  max_batch_size?: number;
  max_batch_timeout?: number;
  max_retries?: number;
  max_concurrency?: number;
  dead_letter_queue?: string;
  retry_delay?: number;
}
interface Section {
  vars?: Record<string, string>;
  triggers?: { crons?: string[] };
  d1_databases?: { binding: string; database_name: string; database_id: string; migrations_dir?: string }[];
  durable_objects?: { bindings?: { name: string; class_name: string }[] };
  queues?: { producers?: { binding: string; queue: string }[]; consumers?: Consumer[] };
  r2_buckets?: { binding: string; bucket_name: string }[];
  kv_namespaces?: { binding: string }[];
  services?: { binding: string }[];
}
type Config = Section & { name: string; env?: Record<string, Section> };

const config = parse(wranglerToml) as unknown as Config;
const production = config.env?.production;
/** The top level (local development) and every named environment, with what each one inherits resolved. */
const environments: [string, Section][] = [
  ["top level", config],
  ...Object.entries(config.env ?? {}).map(([name, section]): [string, Section] => [
    `env.${name}`,
    { ...section, triggers: section.triggers ?? config.triggers },
  ]),
];

const sorted = (values: Iterable<string>) => [...values].sort();
const withoutName = ({ queue: _q, dead_letter_queue: _d, ...settings }: Consumer) => settings;

describe("wrangler.toml", () => {
  it("parses, and has a production environment", () => {
    expect(config.name).toBe("edge-backoffice");
    expect(production).toBeDefined();
  });

  describe.each(environments)("%s", (_label, section) => {
    const environment = section.vars?.ENVIRONMENT;
    const consumers = section.queues?.consumers ?? [];
    const key = (queue: string) => queueKey(queue, environment);

    it("schedules exactly the crons the code has jobs for", () => {
      expect(sorted(section.triggers?.crons ?? [])).toEqual(sorted(Object.keys(cronJobs)));
    });

    it("consumes exactly the queues the code has handlers for", () => {
      expect(sorted(consumers.map((c) => key(c.queue)))).toEqual(sorted(Object.keys(queueHandlers)));
      expect(new Set(consumers.map((c) => c.queue)).size).toBe(consumers.length);
    });

    it("consumes every queue it produces to", () => {
      const consumed = new Set(consumers.map((c) => c.queue));
      for (const producer of section.queues?.producers ?? []) expect(consumed).toContain(producer.queue);
    });

    it("writes out every consumer setting; each work queue has a dead-letter queue that is consumed too", () => {
      const deadLetterQueues = new Set(consumers.flatMap((c) => (c.dead_letter_queue ? [c.dead_letter_queue] : [])));
      for (const consumer of consumers) {
        const required = ["max_batch_size", "max_batch_timeout", "max_retries", "retry_delay"];
        // A dead-letter queue's own consumer is the end of the line: it needs no further dead-letter queue.
        if (!deadLetterQueues.has(consumer.queue)) required.push("max_concurrency", "dead_letter_queue");
        const missing = required.filter((setting) => consumer[setting as keyof Consumer] === undefined);
        expect({ queue: consumer.queue, missing }).toEqual({ queue: consumer.queue, missing: [] });
      }
      for (const dlq of deadLetterQueues) expect(consumers.map((c) => c.queue)).toContain(dlq);
    });
  });

  describe("[env.production]", () => {
    const prod = production ?? {};
    const names = <T>(items: T[] | undefined, pick: (item: T) => string) => sorted((items ?? []).map(pick));

    it("is production, with an https CORS origin that is not a local address", () => {
      expect(prod.vars?.ENVIRONMENT).toBe("production");
      const origins = (prod.vars?.CORS_ORIGINS ?? "").split(",").map((o) => o.trim());
      expect(origins.length).toBeGreaterThan(0);
      for (const origin of origins) {
        expect(origin).toMatch(/^https:\/\/[^/]+$/);
        expect(origin).not.toMatch(/localhost|127\.0\.0\.1|\[::1\]/);
      }
    });

    it("repeats every top-level setting and binding (wrangler does not inherit them)", () => {
      expect(sorted(Object.keys(prod.vars ?? {}))).toEqual(sorted(Object.keys(config.vars ?? {})));
      expect(names(prod.d1_databases, (d) => d.binding)).toEqual(names(config.d1_databases, (d) => d.binding));
      expect(names(prod.durable_objects?.bindings, (b) => `${b.name}:${b.class_name}`)).toEqual(
        names(config.durable_objects?.bindings, (b) => `${b.name}:${b.class_name}`),
      );
      expect(names(prod.queues?.producers, (p) => `${p.binding}:${queueKey(p.queue, "production")}`)).toEqual(
        names(config.queues?.producers, (p) => `${p.binding}:${p.queue}`),
      );
      expect(names(prod.r2_buckets, (b) => b.binding)).toEqual(names(config.r2_buckets, (b) => b.binding));
      expect(names(prod.kv_namespaces, (b) => b.binding)).toEqual(names(config.kv_namespaces, (b) => b.binding));
      expect(names(prod.services, (b) => b.binding)).toEqual(names(config.services, (b) => b.binding));
    });

    it("uses its own resources: D1 database, queues and buckets named apart from the local ones", () => {
      const local = new Set([
        ...(config.d1_databases ?? []).flatMap((d) => [d.database_name, d.database_id]),
        ...(config.queues?.consumers ?? []).map((c) => c.queue),
        ...(config.r2_buckets ?? []).map((b) => b.bucket_name),
      ]);
      const own = [
        ...(prod.d1_databases ?? []).flatMap((d) => [d.database_name, d.database_id]),
        ...(prod.queues?.consumers ?? []).map((c) => c.queue),
        ...(prod.queues?.producers ?? []).map((p) => p.queue),
        ...(prod.r2_buckets ?? []).map((b) => b.bucket_name),
      ];
      expect(own.filter((name) => local.has(name))).toEqual([]);
      for (const queue of [...(prod.queues?.consumers ?? []).map((c) => c.queue)])
        expect(queue).toMatch(/-production$/);
      expect(prod.d1_databases?.[0]?.migrations_dir).toBe(config.d1_databases?.[0]?.migrations_dir);
    });

    it("gives each consumer the same settings as locally, dead-letter queues included", () => {
      const local = new Map((config.queues?.consumers ?? []).map((c) => [c.queue, c]));
      for (const consumer of prod.queues?.consumers ?? []) {
        const twin = local.get(queueKey(consumer.queue, "production"));
        expect(twin, consumer.queue).toBeDefined();
        expect(withoutName(consumer)).toEqual(withoutName(twin!));
        expect(consumer.dead_letter_queue && queueKey(consumer.dead_letter_queue, "production")).toEqual(
          twin!.dead_letter_queue,
        );
      }
    });
  });
});

describe("queue dispatch in a named environment", () => {
  it("maps an environment's queue names to the handler keys, leaving the top level's as they are", () => {
    expect(queueKey("mail-dlq-production", "production")).toBe("mail-dlq");
    expect(queueKey("mail-dlq", "production")).toBe("mail-dlq");
    expect(queueKey("mail-production", "development")).toBe("mail-production");
    expect(queueKey("views", undefined)).toBe("views");
  });

  it("delivers a production queue's batch to its handler", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      // The views dead-letter consumer logs each message at error level and acknowledges it.
      const batch = createMessageBatch("views-dlq-production", [
        { id: "dead-1", timestamp: new Date(), attempts: 1, body: { type: "product.view", id: "x", sku: "y" } },
      ]);
      const ctx = createExecutionContext();
      await handleQueue(batch, { ...env, ENVIRONMENT: "production" } as Env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.ackAll).toBe(true);
      expect(String(error.mock.calls[0]?.[0])).toContain("views message dead-lettered");
      expect(warn).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
  });
});
