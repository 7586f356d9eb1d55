import type { AnchorHTMLAttributes, ComponentChildren } from "preact";
import { type ConsoleRoute, consoleRouteOf } from "../../src/lib/console-routes";
import { createStore, useStore } from "./store";

/**
 * A small History API router: the location is a store, links push entries, back/forward pop them. A page's state
 * that should survive a reload or a shared link (filters, ordering, paging) lives in the query string, read with
 * useLocation().query and written with setQuery().
 */
export type Location = { path: string; search: string };

/** The location, without a trailing slash (the Worker serves "/tasks/" as "/tasks", so the router does too). */
function current(): Location {
  const { pathname, search, hash } = window.location;
  if (pathname.length > 1 && pathname.endsWith("/")) {
    const path = pathname.replace(/\/+$/, "") || "/";
    window.history.replaceState(null, "", `${path}${search}${hash}`);
    return { path, search };
  }
  return { path: pathname, search };
}
export const locationStore = createStore<Location>(current());

/** Set by navigate(): the next page title takes the focus, so a screen reader hears the new page. */
let focusPending = false;
/**
 * A page whose heading has the focus is being replaced by another heading of the same page (a record's "Loading…"
 * frame by its form): the next heading takes the focus over, so it is not dropped to the document body.
 */
export function handFocusOn() {
  focusPending = true;
}

export function takeFocusPending(): boolean {
  const pending = focusPending;
  focusPending = false;
  return pending;
}

window.addEventListener("popstate", () => {
  const next = current();
  if (next.path !== locationStore.get().path) focusPending = true;
  locationStore.set(next);
});

export function navigate(to: string, { replace = false } = {}) {
  const url = new URL(to, window.location.origin);
  if (url.origin !== window.location.origin) throw new Error(`not a console path: ${to}`);
  const target = `${url.pathname}${url.search}${url.hash}`;
  if (replace) window.history.replaceState(null, "", target);
  else window.history.pushState(null, "", target);
  if (url.pathname !== locationStore.get().path) {
    focusPending = true;
    window.scrollTo(0, 0);
  }
  locationStore.set({ path: url.pathname, search: url.search });
}

export function useLocation() {
  const location = useStore(locationStore);
  const match = consoleRouteOf(location.path);
  return {
    ...location,
    query: new URLSearchParams(location.search),
    route: (match?.route ?? null) as ConsoleRoute | null,
    params: match?.params ?? {},
  };
}

/**
 * Changes the query string of this page: `null` or "" removes a key. A new entry by default, so back undoes a
 * filter; typing in a search box replaces instead, so each key stroke is not a history entry.
 */
export function setQuery(changes: Record<string, string | null>, { replace = false } = {}) {
  const query = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === "") query.delete(key);
    else query.set(key, value);
  }
  const search = query.toString();
  navigate(`${window.location.pathname}${search ? `?${search}` : ""}`, { replace });
}

/** A path inside the console that is safe to go back to after sign-in (never another origin, never "//host"). */
export function safeNext(value: string | null): string | null {
  if (!value?.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin ? `${url.pathname}${url.search}` : null;
  } catch {
    return null;
  }
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

/** An ordinary link (open in a new tab works) that navigates in place on a plain click. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  return (
    <a
      href={href}
      onClick={(event) => {
        if (typeof onClick === "function") onClick(event);
        if (event.defaultPrevented || event.button !== 0) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}
