import { errorFields, log } from "../lib/log";
import { requeueStaleMail } from "../mail/requeue";
import { expireTasksJob } from "./expire-tasks";
import { pruneNotifications, pruneProcessedMessages, pruneRateLimits } from "./prune-processed";
import { cursorRetention } from "./retention";

export type CronJob = (env: Env, now: Date) => Promise<unknown>;

export const EVERY_MINUTE = "* * * * *";
export const DAILY = "17 3 * * *";

/** Runs jobs side by side, so one failing does not stop the others; after all settle, the first failure is thrown. */
export function together(jobs: Record<string, CronJob>): CronJob {
  return async (env, now) => {
    const names = Object.keys(jobs);
    const settled = await Promise.allSettled(names.map((name) => jobs[name]!(env, now)));
    const failure = settled.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    return Object.fromEntries(names.map((name, i) => [name, (settled[i] as PromiseFulfilledResult<unknown>).value]));
  };
}

/** Jobs by cron expression (the strings in wrangler.toml `[triggers]`). */
export const cronJobs: Record<string, CronJob> = {
  // The expiry scan, and re-sending mail whose queue message was lost.
  [EVERY_MINUTE]: together({ tasks: expireTasksJob, mail: requeueStaleMail }),
  // Housekeeping: raw cursor events past retention, idempotency keys no redelivery can still need, notifications past
  // their retention, idle rate-limit counters.
  [DAILY]: together({
    cursor: cursorRetention,
    processed: pruneProcessedMessages,
    notifications: pruneNotifications,
    rateLimits: pruneRateLimits,
  }),
};

/** The Worker's `scheduled` entry point: dispatch on the expression; an unknown one is logged, never thrown. */
export async function handleScheduled(cron: string, env: Env, now: Date): Promise<void> {
  const job = cronJobs[cron];
  if (!job) {
    log("warn", "unknown cron expression ignored", { cron });
    return;
  }
  const started = Date.now();
  try {
    const result = await job(env, now);
    log("info", "cron job finished", { cron, duration_ms: Date.now() - started, result });
  } catch (error) {
    log("error", "cron job failed", { cron, ...errorFields(error) });
    throw error;
  }
}
