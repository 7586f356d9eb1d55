import { createRouter } from "../../lib/create-router";
import { exportProducts } from "./products.export";
import * as handlers from "./products.handlers";
import * as routes from "./products.routes";

export const productsRouter = createRouter()
  .openapi(routes.listProducts, handlers.listProducts)
  .openapi(routes.createProduct, handlers.createProduct)
  // Before /products/{sku}, which would take "export" for a sku.
  .openapi(routes.exportProducts, exportProducts)
  .openapi(routes.productHistory, handlers.productHistoryList)
  .openapi(routes.getProduct, handlers.getProduct)
  .openapi(routes.replaceProduct, handlers.replaceProduct)
  .openapi(routes.patchProduct, handlers.patchProduct)
  .openapi(routes.deleteProduct, handlers.deleteProduct);
