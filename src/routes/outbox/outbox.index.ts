import { createRouter } from "../../lib/create-router";
import * as handlers from "./outbox.handlers";
import * as routes from "./outbox.routes";

export const outboxRouter = createRouter().openapi(routes.list, handlers.list).openapi(routes.get, handlers.get);
