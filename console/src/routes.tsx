import type { ComponentType } from "preact";
import type { ConsoleRoute } from "../../src/lib/console-routes";
import ForbiddenPage from "./pages/forbidden";
import type { Role } from "./session";
import { lazyPage } from "./ui/lazy";

/**
 * Who may open a route: `public` anyone (links from mails, the 403 page), `anonymous` only when signed out (sign-in
 * and its kin; signed in, they go on to the tasks), `member` anyone signed in, `admin` admins and the superuser (a
 * member sees the 403 page that names the role).
 */
export type Access = "public" | "anonymous" | Role;
export type RouteDef = { page: ComponentType; access: Access };

// A page that serves two routes (a new record and a stored one) is one lazy page, loaded once for both.
const taskPage = lazyPage(() => import("./pages/tasks/edit"));
const productPage = lazyPage(() => import("./pages/products/edit"));
const userPage = lazyPage(() => import("./pages/users/edit"));

/** Every console route (src/lib/console-routes.ts lists the paths; a missing or extra key fails the typecheck). */
export const ROUTES: Record<ConsoleRoute, RouteDef> = {
  "/": { page: () => null, access: "public" }, // redirected by the app: /tasks or /sign-in
  "/sign-in": { page: lazyPage(() => import("./pages/sign-in")), access: "anonymous" },
  "/sign-up": { page: lazyPage(() => import("./pages/sign-up")), access: "anonymous" },
  "/forgot-password": { page: lazyPage(() => import("./pages/forgot-password")), access: "anonymous" },
  "/reset-password": { page: lazyPage(() => import("./pages/reset-password")), access: "public" },
  "/verify-email": { page: lazyPage(() => import("./pages/verify-email")), access: "public" },
  "/account": { page: lazyPage(() => import("./pages/account")), access: "member" },
  "/tasks": { page: lazyPage(() => import("./pages/tasks/list")), access: "member" },
  "/tasks/new": { page: taskPage, access: "member" },
  "/tasks/:id": { page: taskPage, access: "member" },
  "/notifications": { page: lazyPage(() => import("./pages/notifications")), access: "member" },
  "/products": { page: lazyPage(() => import("./pages/products/list")), access: "member" },
  "/products/new": { page: productPage, access: "admin" },
  "/products/:sku": { page: productPage, access: "member" },
  "/reports/views": { page: lazyPage(() => import("./pages/reports/views")), access: "admin" },
  "/users": { page: lazyPage(() => import("./pages/users/list")), access: "admin" },
  "/users/new": { page: userPage, access: "admin" },
  "/users/:id": { page: userPage, access: "admin" },
  "/outbox": { page: lazyPage(() => import("./pages/outbox/list")), access: "admin" },
  "/outbox/:id": { page: lazyPage(() => import("./pages/outbox/detail")), access: "admin" },
  "/sessions": { page: lazyPage(() => import("./pages/sessions/list")), access: "admin" },
  "/sessions/:id": { page: lazyPage(() => import("./pages/sessions/live")), access: "admin" },
  "/forbidden": { page: ForbiddenPage, access: "public" },
};

/** The navigation: each entry shows only to the roles that may open it. */
export const NAV: { href: ConsoleRoute; label: string; role: Role }[] = [
  { href: "/tasks", label: "Tasks", role: "member" },
  { href: "/notifications", label: "Notifications", role: "member" },
  { href: "/products", label: "Products", role: "member" },
  { href: "/reports/views", label: "Reports", role: "admin" },
  { href: "/users", label: "Users", role: "admin" },
  { href: "/outbox", label: "Outbox", role: "admin" },
  { href: "/sessions", label: "Live sessions", role: "admin" },
];
