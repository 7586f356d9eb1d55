import { useState } from "preact/hooks";

/**
 * The single-use token of a mail link (`/verify-email#token=…`, `/reset-password#token=…`). It travels in the URL
 * fragment, which the browser never sends to a server (no access log, no Referer); the page takes it into memory and
 * at once replaces the history entry with the bare path, so it is not kept in the history or shown in the address
 * bar after use either. Read once per page mount.
 */
export function useFragmentToken(): string | null {
  const [token] = useState(() => {
    const value = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (window.location.hash) {
      window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
    }
    return value && /^[\w-]{16,512}$/.test(value) ? value : null;
  });
  return token;
}
