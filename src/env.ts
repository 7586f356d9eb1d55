import type { RequestIdVariables } from "hono/request-id";
import type { RequestD1 } from "./db/client";
import type { Role } from "./db/schema";

/** The signed-in caller, as loaded from D1 on each request (so deletes and role changes apply at once). */
export type AuthUser = {
  id: string;
  email: string;
  username: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  emailVerifiedAt: number | null;
  tokenVersion: number;
};

export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & { user: AuthUser; d1: RequestD1; session: () => RequestD1 };
};
