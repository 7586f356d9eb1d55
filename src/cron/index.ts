import { errorFields, log } from "../lib/log";
import { expireTasksJob } from "./expire-tasks";
import { cursorRetention } from "./retention";

export type CronJob = (env: Env, now: Date) => Promise<unknown>;

export const EVERY_MINUTE = "* * * * *";
export const DAILY = "17 3 * * *";

/** Jobs by cron expression (the strings in wrangler.toml `[triggers]`). */
export const cronJobs: Record<string, CronJob> = {
  [EVERY_MINUTE]: expireTasksJob,
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
