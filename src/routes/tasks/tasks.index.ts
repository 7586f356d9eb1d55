import { createRouter } from "../../lib/create-router";
import { exportTasks } from "./tasks.export";
import * as handlers from "./tasks.handlers";
import * as routes from "./tasks.routes";

export const tasksRouter = createRouter()
  .openapi(routes.listTasks, handlers.listTasks)
  .openapi(routes.createTask, handlers.createTask)
  // Before /tasks/{id}, which would take "export" for an id.
  .openapi(routes.exportTasks, exportTasks)
  .openapi(routes.bulkUpdateTasks, handlers.bulkUpdateTasks)
  .openapi(routes.bulkDeleteTasks, handlers.bulkDeleteTasks)
  .openapi(routes.getTask, handlers.getTask)
  .openapi(routes.replaceTask, handlers.replaceTask)
  .openapi(routes.patchTask, handlers.patchTask)
  .openapi(routes.deleteTask, handlers.deleteTask);
