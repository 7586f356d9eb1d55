import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { ApiProblem, type Problem, unwrap } from "../../api/problem";
import { Link, setQuery } from "../../router";
import { hasRole, useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { ExportButton } from "../../ui/export-button";
import { FilterForm, ListResults, TextFilter, useListQuery, useTypedFilters } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Table } from "../../ui/table";
import { absoluteTime, relativeTime } from "../../ui/time";
import { plural } from "../../ui/words";
import { isExpired, mayEdit, ORDERINGS, STATUSES, type Status, statusLabel, type Task, taskList } from "./model";

type Bulk = { kind: "status"; status: Status } | { kind: "delete" };

/**
 * The task wall: search, status filter, ordering and paging, all in the query string (reload, back and forward and a
 * shared link keep them); select several, then mark a status or delete, after a confirmation that names the count.
 */
export default function TaskList() {
  const view = useListQuery({ memory: taskList, orderings: ORDERINGS });
  const { query, search, ordering, limit, offset } = view;
  const { user } = useSession();
  const now = useNow();
  const statuses = (query.get("status") ?? "")
    .split(",")
    .filter((s): s is Status => STATUSES.some((x) => x.value === s));
  const q = query.get("q") ?? "";
  const creator = query.get("search") ?? "";
  const typed = useTypedFilters({ q, search: creator });

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
        ? `Deleted ${plural(ids.length, "task")}.`
        : `Marked ${plural(ids.length, "task")} as ${statusLabel(what.status).toLowerCase()}.`,
    );
    await list.reload();
  });

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
      <FilterForm label="Filter tasks" filters={typed} view={view}>
        <TextFilter filters={typed} name="q" label="Title contains" maxLength={200} />
        <TextFilter
          filters={typed}
          name="search"
          label="Created by"
          maxLength={254}
          hint={hasRole(user, "admin") ? "Part of a username or email." : "Part of a username, or a whole email."}
        />
        <fieldset class="field field-wide">
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
      </FilterForm>

      <ListResults
        list={list}
        view={view}
        noun="tasks"
        label="Task list"
        done={done}
        toolbar={
          selected.size > 0 ? (
            <section class="bulk card" aria-label="Selected tasks">
              <strong>{plural(selected.size, "task")} selected</strong>
              <label for="bulk-status">Mark as</label>
              <select
                id="bulk-status"
                value={bulkStatus}
                onChange={(e) => setBulkStatus(e.currentTarget.value as Status)}
              >
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
          ) : null
        }
      >
        <Table
          columns={[
            {
              class: "select",
              label: (
                <input
                  type="checkbox"
                  aria-label="Select every task on this page"
                  disabled={items.length === 0}
                  checked={allOnPage}
                  onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((t) => t.id)) : new Set())}
                />
              ),
            },
            "Title",
            "Status",
            "Expires",
            "Created by",
          ]}
        >
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
                  {mayEdit(task, user) ? null : <span class="visually-hidden"> (you may change its status only)</span>}
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
        </Table>
      </ListResults>

      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === "delete"
            ? `Delete ${plural(selected.size, "task")}?`
            : `Mark ${plural(selected.size, "task")} as ${statusLabel(pending?.status ?? "done").toLowerCase()}?`
        }
        confirmText={
          pending?.kind === "delete"
            ? `Delete ${plural(selected.size, "task")}`
            : `Mark ${plural(selected.size, "task")}`
        }
        danger={pending?.kind === "delete"}
        action={bulk}
        onConfirm={() => pending && void bulk.run(pending)}
        onClose={() => setPending(null)}
        problemDetails={<BulkFailures problem={bulk.problem} tasks={items} />}
      >
        <p>
          {pending?.kind === "delete"
            ? "Deleted tasks cannot be brought back. If any one of them may not be deleted by you, none is."
            : "All of them change, or none does."}
        </p>
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
