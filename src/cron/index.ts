import { errorFields, log } from "../lib/log";
import { requeueStaleMail } from "../mail/requeue";
import { expireTasksJob } from "./expire-tasks";
import { cursorRetention } from "./retention";

export type CronJob = (env: Env, now: Date) => Promise<unknown>;

export const EVERY_MINUTE = "* * * * *";
export const DAILY = "17 3 * * *";

/** Jobs by cron expression (the strings in wrangler.toml `[triggers]`). */
export const cronJobs: Record<string, CronJob> = {
  // Beside the expiry scan: re-send mail whose queue message was lost. One failing does not stop the other.
  [EVERY_MINUTE]: async (env, now) => {
    const [tasks, mail] = await Promise.allSettled([expireTasksJob(env, now), requeueStaleMail(env, now)]);
    if (tasks.status === "rejected") throw tasks.reason;
    if (mail.status === "rejected") throw mail.reason;
    return { tasks: tasks.value, mail: mail.value };
  },
  [DAILY]: cursorRetention,
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
