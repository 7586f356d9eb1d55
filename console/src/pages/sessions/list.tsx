import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link } from "../../router";
import { useAction } from "../../ui/action";
import { ListResults, RefreshButton, useListQuery } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Table } from "../../ui/table";
import { absoluteTime, relativeTime } from "../../ui/time";
import { type CursorSession, distance, number, sessionList } from "./model";

/** The list reads its totals again this often while it is open (a running session's totals trail by a few seconds). */
const REFRESH_MS = 5_000;

/** Every cursor session, newest first: live or ended, with its totals; open one to watch it. */
export default function SessionList() {
  const view = useListQuery({ memory: sessionList });
  const { search, limit, offset } = view;
  const now = useNow(REFRESH_MS);
  const list = useLoad(
    search,
    () => unwrap(api.GET("/api/v1/cursor/sessions", { params: { query: { limit, offset } } })),
    { every: REFRESH_MS },
  );
  const refresh = useAction(list.reload);
  const items = (list.data?.items ?? []) as CursorSession[];
  return (
    <Page title="Live sessions" actions={<RefreshButton busy={refresh.busy} onClick={() => void refresh.run()} />}>
      <p class="hint">
        Each visit to the <a href="/capture">capture page</a> is a session. A session with no events for a while ends by
        itself; its events are then archived. This list reads its totals again every few seconds.
      </p>
      <ListResults list={list} view={view} noun="sessions" label="Session list">
        <Table
          columns={[
            "Session",
            "State",
            "Started",
            { label: "Events", num: true },
            { label: "Distance", num: true },
            "Last event",
          ]}
        >
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
        </Table>
      </ListResults>
    </Page>
  );
}
