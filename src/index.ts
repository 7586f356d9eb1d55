import { createApp } from "./app";
import { handleScheduled } from "./cron";
import { handleQueue } from "./queues";

export { CursorSession } from "./cursor/cursor-session";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  async scheduled(controller, env) {
    await handleScheduled(controller.cron, env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
