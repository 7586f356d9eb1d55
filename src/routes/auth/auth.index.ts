import { createRouter } from "../../lib/create-router";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

const router = createRouter();
// Every auth answer carries a token or the caller's own data: no cache may keep it (RFC 6749 §5.1).
router.use("/auth/*", async (c, next) => {
  c.header("Cache-Control", "private, no-store");
  await next();
});

export const authRouter = router
  .openapi(routes.register, handlers.register)
  .openapi(routes.login, handlers.login)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.me, handlers.me)
  .openapi(routes.verifyEmail, handlers.verifyEmail)
  .openapi(routes.resendVerification, handlers.resendVerification)
  .openapi(routes.forgotPassword, handlers.forgotPassword)
  .openapi(routes.resetPassword, handlers.resetPassword)
  .openapi(routes.changePassword, handlers.changePassword)
  .openapi(routes.logoutAll, handlers.logoutAll)
  .openapi(routes.config, handlers.config)
  .openapi(routes.consoleSignIn, handlers.consoleSignIn)
  .openapi(routes.consoleRegister, handlers.consoleRegister)
  .openapi(routes.consoleRefresh, handlers.consoleRefresh)
  .openapi(routes.consoleSignOut, handlers.consoleSignOut);
