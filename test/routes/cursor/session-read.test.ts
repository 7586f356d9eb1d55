import { describe, expect, it } from "vitest";
import { createSession } from "../../cursor/helpers";
import { api, createUser, expectProblem } from "../../helpers";

type Session = { id: string; label: string | null; ended_at: string | null; event_count: number };

describe("GET /cursor/sessions/{id} (admin)", () => {
  it("answers one session as the list shows it, live then ended", async () => {
    const admin = await createUser("admin");
    const s = await createSession("one of many");
    const read = async () => {
      const res = await api(`/cursor/sessions/${s.id}`, { token: admin.token });
      expect(res.status).toBe(200);
      return (await res.json()) as Session;
    };
    const live = await read();
    expect(live).toMatchObject({ id: s.id, label: "one of many", ended_at: null, event_count: 0 });
    const listed = (await (await api("/cursor/sessions?limit=100", { token: admin.token })).json()) as {
      items: Session[];
    };
    expect(listed.items.find((i) => i.id === s.id)).toEqual(live);

    expect((await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: s.token })).status).toBe(204);
    expect(Date.parse((await read()).ended_at ?? "")).toBeGreaterThan(0);
  });

  it("is for admins only, and a 404 for a session that does not exist", async () => {
    const s = await createSession();
    await expectProblem(await api(`/cursor/sessions/${s.id}`), 401);
    await expectProblem(await api(`/cursor/sessions/${s.id}`, { token: s.token }), 401);
    await expectProblem(await api(`/cursor/sessions/${s.id}`, { token: (await createUser("member")).token }), 403);
    const superuser = await createUser("superuser");
    await expectProblem(await api(`/cursor/sessions/${crypto.randomUUID()}`, { token: superuser.token }), 404);
    await expectProblem(await api("/cursor/sessions/not-an-id", { token: superuser.token }), 400);
  });
});
