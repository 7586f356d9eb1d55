import { api } from "./api/client";
import { unwrap } from "./api/problem";
import { createStore } from "./store";

/** The unread count in the navigation; the notifications page sets it when it marks one read. */
export const unreadStore = createStore<number | null>(null);

export async function refreshUnread() {
  try {
    const page = await unwrap(api.GET("/api/v1/notifications", { params: { query: { unread: "true", limit: 1 } } }));
    unreadStore.set(page.total);
  } catch {
    // The count is a hint; the page itself says when the server cannot be reached.
  }
}
