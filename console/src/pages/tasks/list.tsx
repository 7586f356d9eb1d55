import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { ApiProblem, type Problem, unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { hasRole, useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { ExportButton } from "../../ui/export-button";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime, relativeTime } from "../../ui/time";
import { isExpired, mayEdit, ORDERINGS, rememberList, STATUSES, type Status, statusLabel, type Task } from "./model";

const PAGE_SIZES = ["20", "50", "100"];
const DEFAULT_ORDERING = "-created_at";

type Bulk = { kind: "status"; status: Status } | { kind: "delete" };

/**
 * The task wall: search, status filter, ordering and paging, all in the query string (reload, back and forward and a
 * shared link keep them); select several, then mark a status or delete, after a confirmation that names the count.
 */
export default function TaskList() {
  const { query, path, search } = useLocation();
  const { user } = useSession();
  const now = useNow();
  const statuses = (query.get("status") ?? "")
    .split(",")
    .filter((s): s is Status => STATUSES.some((x) => x.value === s));
  const ordering = query.get("ordering") ?? DEFAULT_ORDERING;
  const limit = PAGE_SIZES.includes(query.get("limit") ?? "") ? Number(query.get("limit")) : 20;
  const offset = Math.max(0, Number.parseInt(query.get("offset") ?? "0", 10) || 0);
  const q = query.get("q") ?? "";
  const creator = query.get("search") ?? "";

  useEffect(() => rememberList(`${path}${search}`), [path, search]);

  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/tasks", {
        params: {
          query: {
            limit,
            offset,
            ordering,
            ...(q ? { q } : {}),
            ...(creator ? { search: creator } : {}),
            ...(statuses.length ? { status: statuses.join(",") } : {}),
          },
        },
      }),
    ),
  );
  const items = (list.data?.items ?? []) as Task[];

  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [search]);
  const [bulkStatus, setBulkStatus] = useState<Status>("done");
  const [pending, setPending] = useState<Bulk | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const bulk = useAction(async (what: Bulk) => {
    const ids = [...selected];
    if (what.kind === "delete") await unwrap(api.DELETE("/api/v1/tasks", { body: { ids } }));
    else await unwrap(api.PUT("/api/v1/tasks", { body: { tasks: ids.map((id) => ({ id, status: what.status })) } }));
    setPending(null);
    setSelected(new Set());
    setDone(
      what.kind === "delete"
        ? `Deleted ${count(ids.length, "task")}.`
        : `Marked ${count(ids.length, "task")} as ${statusLabel(what.status).toLowerCase()}.`,
    );
    await list.reload();
  });

  const [qDraft, setQDraft] = useState(q);
  const [creatorDraft, setCreatorDraft] = useState(creator);
  useEffect(() => {
    setQDraft(q);
    setCreatorDraft(creator);
  }, [q, creator]);

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allOnPage = items.length > 0 && items.every((t) => selected.has(t.id));

  return (
    <Page
      title="Tasks"
      actions={
        <>
          <ExportButton
            list="tasks"
            query={{ ordering, q, search: creator, status: statuses.join(",") }}
            total={list.data?.total}
          />
          <Link class="button primary" href="/tasks/new">
            New task
          </Link>
        </>
      }
    >
      <form
        class="filters card"
        aria-label="Filter tasks"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ q: qDraft.trim(), search: creatorDraft.trim(), offset: null });
        }}
      >
        <div class="field">
          <label for="filter-q">Title contains</label>
          <input
            id="filter-q"
            type="search"
            value={qDraft}
            maxLength={200}
            onInput={(e) => setQDraft(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-creator">Created by</label>
          <input
            id="filter-creator"
            type="search"
            value={creatorDraft}
            maxLength={254}
            placeholder={hasRole(user, "admin") ? "username or email" : "username or whole email"}
            onInput={(e) => setCreatorDraft(e.currentTarget.value)}
          />
        </div>
        <fieldset class="field">
          <legend>Status</legend>
          <div class="checks">
            {STATUSES.map((s) => (
              <label key={s.value} class="check">
                <input
                  type="checkbox"
                  checked={statuses.includes(s.value)}
                  onChange={(e) => {
                    const next = e.currentTarget.checked
                      ? [...statuses, s.value]
                      : statuses.filter((x) => x !== s.value);
                    setQuery({
                      status: STATUSES.map((x) => x.value)
                        .filter((v) => next.includes(v))
                        .join(","),
                      offset: null,
                    });
                  }}
                />
                {s.label}
              </label>
            ))}
          </div>
        </fieldset>
        <div class="field">
          <label for="filter-ordering">Order</label>
          <select
            id="filter-ordering"
            value={ordering}
            onChange={(e) =>
              setQuery({
                ordering: e.currentTarget.value === DEFAULT_ORDERING ? null : e.currentTarget.value,
                offset: null,
              })
            }
          >
            {ORDERINGS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-limit">Per page</label>
          <select
            id="filter-limit"
            value={String(limit)}
            onChange={(e) =>
              setQuery({ limit: e.currentTarget.value === "20" ? null : e.currentTarget.value, offset: null })
            }
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Search</button>
          {search ? (
            <Link class="button" href="/tasks">
              Clear
            </Link>
          ) : null}
        </div>
      </form>

      <ProblemBanner problem={list.problem} />
      <p role="status" class="status-line">
        {list.loading ? (
          <>
            <span class="spinner" aria-hidden="true" />
            Loading tasks…
          </>
        ) : (
          (done ?? "")
        )}
      </p>

      {selected.size > 0 ? (
        <section class="bulk card" aria-label="Selected tasks">
          <strong>{count(selected.size, "task")} selected</strong>
          <label for="bulk-status">Mark as</label>
          <select id="bulk-status" value={bulkStatus} onChange={(e) => setBulkStatus(e.currentTarget.value as Status)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => setPending({ kind: "status", status: bulkStatus })}>
            Apply
          </button>
          <button type="button" class="danger" onClick={() => setPending({ kind: "delete" })}>
            Delete
          </button>
          <button type="button" class="link" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </section>
      ) : null}

      <div class="table-wrap" aria-busy={list.loading}>
        <table class="table">
          <thead>
            <tr>
              <th scope="col" class="select">
                <input
                  type="checkbox"
                  aria-label="Select every task on this page"
                  checked={allOnPage}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((t) => t.id)) : new Set())}
                />
              </th>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col">Expires</th>
              <th scope="col">Created by</th>
            </tr>
          </thead>
          <tbody>
            {items.map((task) => {
              const expired = isExpired(task, now);
              return (
                <tr key={task.id} class={expired ? "expired" : undefined}>
                  <td class="select">
                    <input
                      type="checkbox"
                      aria-label={`Select “${task.title}”`}
                      checked={selected.has(task.id)}
                      onChange={() => toggle(task.id)}
                    />
                  </td>
                  <td>
                    <Link href={`/tasks/${task.id}`}>{task.title}</Link>
                    {mayEdit(task, user) ? null : (
                      <span class="visually-hidden"> (you may change its status only)</span>
                    )}
                  </td>
                  <td>
                    <span class={`tag tag-${task.status}`}>{statusLabel(task.status)}</span>
                  </td>
                  <td>
                    {task.expires_at ? (
                      <time dateTime={task.expires_at} title={absoluteTime(task.expires_at)}>
                        {expired ? <span class="tag tag-expired">Expired</span> : null}{" "}
                        {relativeTime(task.expires_at, now)}
                      </time>
                    ) : (
                      <span class="muted">never</span>
                    )}
                  </td>
                  <td>{task.created_by.username}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {!list.loading && items.length === 0 && !list.problem ? <p class="empty">No tasks match.</p> : null}
      </div>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} label="Task list" /> : null}

      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === "delete"
            ? `Delete ${count(selected.size, "task")}?`
            : `Mark ${count(selected.size, "task")} as ${statusLabel(pending?.status ?? "done").toLowerCase()}?`
        }
        confirmText={
          pending?.kind === "delete" ? `Delete ${count(selected.size, "task")}` : `Mark ${count(selected.size, "task")}`
        }
        danger={pending?.kind === "delete"}
        busy={bulk.busy}
        onConfirm={() => pending && void bulk.run(pending)}
        onCancel={() => {
          setPending(null);
          bulk.setProblem(null);
        }}
      >
        <p>
          {pending?.kind === "delete"
            ? "Deleted tasks cannot be brought back. If any one of them may not be deleted by you, none is."
            : "All of them change, or none does."}
        </p>
        <ProblemBanner problem={bulk.problem}>
          <BulkFailures problem={bulk.problem} tasks={items} />
        </ProblemBanner>
      </ConfirmDialog>
    </Page>
  );
}

/** Which selected tasks a refused bulk action named, by title, and why (the API lists them as `failures`). */
function BulkFailures({ problem, tasks }: { problem: Problem | null; tasks: Task[] }) {
  const failures =
    problem instanceof ApiProblem
      ? (problem.body as { failures?: { id: string; reason: string }[] }).failures
      : undefined;
  if (!failures?.length) return null;
  const title = (id: string) => tasks.find((t) => t.id === id)?.title ?? id;
  return (
    <ul>
      {failures.map((f) => (
        <li key={f.id}>
          “{title(f.id)}”:{" "}
          {f.reason === "forbidden" ? "only its creator or an admin may do this" : "it no longer exists"}
        </li>
      ))}
    </ul>
  );
}

function count(n: number, noun: string) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
