import { createRouter } from "../../lib/create-router";
import * as handlers from "./reports.handlers";
import * as routes from "./reports.routes";

export const reportsRouter = createRouter()
  .openapi(routes.productViews, handlers.productViews)
  .openapi(routes.productViewsSeries, handlers.productViewsSeries);
