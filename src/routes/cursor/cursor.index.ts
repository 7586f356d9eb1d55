import { createRouter } from "../../lib/create-router";
import * as handlers from "./cursor.handlers";
import * as routes from "./cursor.routes";

export const cursorRouter = createRouter()
  .openapi(routes.createSession, handlers.createSession)
  .openapi(routes.listSessions, handlers.listSessions)
  .openapi(routes.postEvents, handlers.postEvents)
  .openapi(routes.live, handlers.live)
  .openapi(routes.stats, handlers.stats)
  .openapi(routes.listEvents, handlers.listEvents)
  .openapi(routes.getSession, handlers.getSession)
  .openapi(routes.endSession, handlers.endSession)
  .openapi(routes.getArchive, handlers.getArchive)
  .openapi(routes.listArchives, handlers.listArchives);
