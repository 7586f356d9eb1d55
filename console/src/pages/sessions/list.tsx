import { useEffect } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, useLocation } from "../../router";
import { offsetOf, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime, relativeTime } from "../../ui/time";
import { type CursorSession, distance, number } from "./model";

const LIMIT = 20;
/** The list reads its totals again this often while it is open (a running session's totals trail by a few seconds). */
const REFRESH_MS = 5_000;

/** Every cursor session, newest first: live or ended, with its totals; open one to watch it. */
export default function SessionList() {
  const { query, search } = useLocation();
  const now = useNow(REFRESH_MS);
  const offset = offsetOf(query);
  const list = useLoad(search, () =>
    unwrap(api.GET("/api/v1/cursor/sessions", { params: { query: { limit: LIMIT, offset } } })),
  );
  useEffect(() => {
    const timer = setInterval(() => void list.reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const items = (list.data?.items ?? []) as CursorSession[];
  return (
    <Page
      title="Live sessions"
      actions={
        <button type="button" onClick={() => void list.reload()} aria-busy={list.loading}>
          Refresh
        </button>
      }
    >
      <p class="hint">
        Each visit to the <a href="/capture">capture page</a> is a session. A session with no events for a while ends by
        itself; its events are then archived.
      </p>
      <ProblemBanner problem={list.problem} />
      <StatusLine loading={list.loading && !list.data} what="sessions" />
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">State</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">
                Events
              </th>
              <th scope="col" class="num">
                Distance
              </th>
              <th scope="col">Last event</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link
                    href={`/sessions/${s.id}`}
                    aria-label={`Session ${s.id.slice(0, 8)}${s.label ? `, ${s.label}` : ""}`}
                  >
                    <code>{s.id.slice(0, 8)}</code>
                  </Link>
                  {s.label ? <div class="small muted">{s.label}</div> : null}
                  <div class="small muted">
                    {s.viewport.width}×{s.viewport.height}
                  </div>
                </td>
                <td>{s.ended_at ? <span class="tag">Ended</span> : <span class="tag tag-ok">Live</span>}</td>
                <td>
                  <time dateTime={s.created_at} title={absoluteTime(s.created_at)}>
                    {relativeTime(s.created_at, now)}
                  </time>
                </td>
                <td class="num">{number.format(s.event_count)}</td>
                <td class="num">{distance(s.total_distance)}</td>
                <td>
                  {s.last_event_at ? (
                    <time dateTime={s.last_event_at} title={absoluteTime(s.last_event_at)}>
                      {relativeTime(s.last_event_at, now)}
                    </time>
                  ) : (
                    <span class="muted">none yet</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!list.loading && items.length === 0 && !list.problem ? <p class="empty">No sessions yet.</p> : null}
      </div>
      {list.data ? <Pager offset={offset} limit={LIMIT} total={list.data.total} label="Session list" /> : null}
    </Page>
  );
}
