import { api, onSignedOut } from "./api/client";
import { ApiProblem, unwrap } from "./api/problem";
import type { components } from "./api/schema";
import { createStore, useStore } from "./store";

export type User = components["schemas"]["User"];
export type Role = User["role"];

/** Who is signed in, as far as the console knows: "loading" until GET /auth/me has answered once. */
export type Session =
  | { status: "loading"; user: null }
  | { status: "signed-out"; user: null }
  | { status: "signed-in"; user: User };

export const sessionStore = createStore<Session>({ status: "loading", user: null });
/** Whether sign-up is on (GET /auth/config); the sign-up link and page show only then. */
export const signupStore = createStore<boolean>(false);

export const useSession = () => useStore(sessionStore);

const RANK: Record<Role, number> = { member: 1, admin: 2, superuser: 3 };

/** Whether `user` has at least `role` (the superuser is an admin too). */
export function hasRole(user: User | null, role: Role): boolean {
  return user !== null && RANK[user.role] >= RANK[role];
}

export function signedIn(user: User) {
  sessionStore.set({ status: "signed-in", user });
}

export function signedOut() {
  sessionStore.set({ status: "signed-out", user: null });
}

onSignedOut(signedOut);

/** Asks the API who this is (the cookie, refreshed once if the access cookie has expired). */
export async function loadSession() {
  const [me, config] = await Promise.allSettled([
    unwrap(api.GET("/api/v1/auth/me")),
    unwrap(api.GET("/api/v1/auth/config")),
  ]);
  if (config.status === "fulfilled") signupStore.set(config.value.signup);
  if (me.status === "fulfilled") signedIn(me.value);
  else if (me.reason instanceof ApiProblem) signedOut();
  else {
    // No answer: keep "loading" would hang the page; treat as signed out, the sign-in page says what failed.
    signedOut();
  }
}
