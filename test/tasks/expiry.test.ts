import { describe, expect, it } from "vitest";
import type { WritePlan } from "../../src/db/write-plan";
import { armedMail, expiryMessage, noticeWindowMs } from "../../src/tasks/expiry";

const MINUTE = 60_000;

describe("expiry rules (pure)", () => {
  it("says expiring before the time and expired from it on; the window comes from EXPIRY_NOTICE_MINUTES", () => {
    const task = { id: "t", title: "T", expiresAt: 5000 };
    expect(expiryMessage(task, 4999).kind).toBe("task.expiring");
    expect(expiryMessage(task, 5000).kind).toBe("task.expired");
    expect(noticeWindowMs({ EXPIRY_NOTICE_MINUTES: "15" })).toBe(15 * MINUTE);
    expect(noticeWindowMs({ EXPIRY_NOTICE_MINUTES: "5" })).toBe(5 * MINUTE);
    expect(noticeWindowMs({ EXPIRY_NOTICE_MINUTES: "0" })).toBe(0);
    expect(() => noticeWindowMs({ EXPIRY_NOTICE_MINUTES: "nonsense" })).toThrow("EXPIRY_NOTICE_MINUTES");
    expect(() => noticeWindowMs({ EXPIRY_NOTICE_MINUTES: "-3" })).toThrow("EXPIRY_NOTICE_MINUTES");
  });

  it("queues the mail of exactly the parts whose arm (their last statement) returned the task", () => {
    const mail = (id: string) => ({ body: { id }, contentType: "json" as const });
    const statement = {} as WritePlan["statements"][number];
    const parts: WritePlan[] = [
      { statements: [statement, statement], queueMessages: [mail("armed")] },
      { statements: [statement], queueMessages: [] },
      { statements: [statement, statement, statement], queueMessages: [mail("lost the race")] },
      { statements: [statement, statement], queueMessages: [mail("also armed")] },
    ];
    // One result per statement, in order; an arm answers the rows it updated.
    const results = [[], [{ id: "t1" }], [], [], [], [], [], [{ id: "t4" }]];
    expect(armedMail(parts, results).map((message) => message.body.id)).toEqual(["armed", "also armed"]);
  });
});
