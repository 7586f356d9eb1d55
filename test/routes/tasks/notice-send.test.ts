import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { createUser } from "../../helpers";

/** The Worker with a mail queue that refuses every send (a queue outage). */
function withBrokenMailQueue(path: string, init: { method: string; token: string; json: unknown }) {
  const failing = {
    send: () => Promise.reject(new Error("queue unavailable")),
    sendBatch: () => Promise.reject(new Error("queue unavailable")),
  } as unknown as Queue;
  return createApp().fetch(
    new Request(`http://localhost/api/v1${path}`, {
      method: init.method,
      headers: { authorization: `Bearer ${init.token}`, "content-type": "application/json" },
      body: JSON.stringify(init.json),
    }),
    { ...env, MAIL_QUEUE: failing },
    createExecutionContext(),
  );
}

describe("a task write whose expiry notice cannot be queued", () => {
  it("still answers the committed write (the outbox row stays queued for the requeue sweep), never a 500", async () => {
    const user = await createUser("member");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const past = new Date(Date.now() - 60_000).toISOString();
    const created = await withBrokenMailQueue("/tasks", {
      method: "POST",
      token: user.token,
      json: { title: "already late", expires_at: past },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const moved = await withBrokenMailQueue(`/tasks/${id}`, {
      method: "PATCH",
      token: user.token,
      json: { expires_at: new Date(Date.now() - 120_000).toISOString() },
    });
    expect(moved.status).toBe(200);
    logged.mockRestore();

    const outbox = await env.DB.prepare("SELECT status FROM outbox WHERE entity_id = ?").bind(id).all<{
      status: string;
    }>();
    expect(outbox.results.map((row) => row.status)).toEqual(["queued", "queued"]);
    const tasks = await env.DB.prepare("SELECT count(*) AS n FROM tasks WHERE title = 'already late'").first<{
      n: number;
    }>();
    expect(tasks?.n).toBe(1);
  });
});
