import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { unreadStore } from "../notifications-count";
import { Link, setQuery, useLocation } from "../router";
import { useAction } from "../ui/action";
import { ActionButton } from "../ui/button";
import { offsetOf, StatusLine } from "../ui/list";
import { useLoad } from "../ui/load";
import { useNow } from "../ui/now";
import { Page } from "../ui/page";
import { Pager } from "../ui/pager";
import { ProblemBanner } from "../ui/problem-banner";
import { absoluteTime, relativeTime } from "../ui/time";

const LIMIT = 20;

/** Your in-app notifications (task expiry notices), unread first to see, each marked read with one button. */
export default function Notifications() {
  const { query, search } = useLocation();
  const now = useNow();
  const unreadOnly = query.get("unread") === "true";
  const offset = offsetOf(query);
  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/notifications", {
        params: { query: { limit: LIMIT, offset, ...(unreadOnly ? { unread: "true" } : {}) } },
      }),
    ),
  );
  const [marking, setMarking] = useState<string | null>(null);
  const mark = useAction(async (id: string) => {
    setMarking(id);
    try {
      await unwrap(api.POST("/api/v1/notifications/{id}/read", { params: { path: { id } } }));
      const count = unreadStore.get();
      if (count) unreadStore.set(count - 1);
      await list.reload();
    } finally {
      setMarking(null);
    }
  });
  const items = list.data?.items ?? [];
  return (
    <Page title="Notifications">
      <div class="toolbar">
        <label class="check">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => setQuery({ unread: e.currentTarget.checked ? "true" : null, offset: null })}
          />
          Unread only
        </label>
      </div>
      <ProblemBanner problem={list.problem} retry={list.reload} />
      <ProblemBanner problem={mark.problem} />
      <StatusLine loading={list.loading} what="notifications" />
      <ul class="notices" aria-busy={list.loading}>
        {items.map((n) => (
          <li key={n.id} class={`card notice${n.read ? "" : " unread"}`}>
            <div>
              <h2 class="notice-title">
                {n.read ? null : <span class="tag tag-warn">Unread</span>} {n.title}
              </h2>
              <p>{n.body}</p>
              <p class="muted small">
                <time dateTime={n.created_at} title={absoluteTime(n.created_at)}>
                  {relativeTime(n.created_at, now)}
                </time>
                {n.entity_type === "task" && n.entity_id ? (
                  <>
                    {" · "}
                    <Link href={`/tasks/${n.entity_id}`}>Open the task</Link>
                  </>
                ) : null}
              </p>
            </div>
            {n.read ? null : (
              <ActionButton busy={marking === n.id} onClick={() => void mark.run(n.id)}>
                {marking === n.id ? "Marking…" : "Mark read"}
                <span class="visually-hidden">: {n.title}</span>
              </ActionButton>
            )}
          </li>
        ))}
      </ul>
      {!list.loading && items.length === 0 && !list.problem ? (
        <p class="empty">
          {unreadOnly
            ? "Nothing unread."
            : "No notifications yet. You get one here when a task of yours is about to expire."}
        </p>
      ) : null}
      {list.data ? <Pager offset={offset} limit={LIMIT} total={list.data.total} label="Notifications" /> : null}
    </Page>
  );
}
