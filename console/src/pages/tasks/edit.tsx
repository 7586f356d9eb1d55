import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { ActionForm, Field, Submit } from "../../ui/field";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime, fromLocalInput, relativeTime, toLocalInput } from "../../ui/time";
import { isExpired, listUrl, mayEdit, STATUSES, type Status, type Task } from "./model";

const FIELDS = ["title", "description", "status", "expires_at"];

type Draft = { title: string; description: string; status: Status; expires: string };
const EMPTY: Draft = { title: "", description: "", status: "todo", expires: "" };
const draftOf = (task: Task): Draft => ({
  title: task.title,
  description: task.description,
  status: task.status,
  expires: toLocalInput(task.expires_at),
});

/** Create a task (/tasks/new) or edit one (/tasks/:id); the server's per-field problems are shown at the fields. */
export default function TaskEdit() {
  const { params } = useLocation();
  const id = params.id ?? null;
  return id ? <Existing id={id} key={id} /> : <TaskForm task={null} />;
}

function Existing({ id }: { id: string }) {
  const loaded = useLoad(id, () => unwrap(api.GET("/api/v1/tasks/{id}", { params: { path: { id } } })));
  if (loaded.data) return <TaskForm task={loaded.data as Task} />;
  return (
    <Page title="Task">
      <ProblemBanner problem={loaded.problem} />
      {loaded.loading ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          Loading the task…
        </p>
      ) : null}
      <p>
        <Link href={listUrl()}>Back to the tasks</Link>
      </p>
    </Page>
  );
}

function TaskForm({ task }: { task: Task | null }) {
  const { user } = useSession();
  const now = useNow();
  const [draft, setDraft] = useState<Draft>(task ? draftOf(task) : EMPTY);
  const [saved, setSaved] = useState<Task | null>(task);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => setSaved(task), [task]);
  const editable = saved === null || mayEdit(saved, user);
  const set = (key: keyof Draft) => (event: Event) =>
    setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value });

  const save = useAction(async () => {
    const body = {
      title: draft.title,
      description: draft.description,
      status: draft.status,
      expires_at: fromLocalInput(draft.expires),
    };
    if (!saved) {
      await unwrap(api.POST("/api/v1/tasks", { body }));
      navigate(listUrl());
      return;
    }
    // Someone who may change only the status sends only the status.
    const changes = editable ? body : { status: draft.status };
    const updated = (await unwrap(
      api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: saved.id } }, body: changes }),
    )) as Task;
    setSaved(updated);
    setDraft(draftOf(updated));
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/tasks/{id}", { params: { path: { id: saved!.id } } }));
    setConfirmDelete(false);
    navigate(listUrl());
  });

  const locked = editable ? undefined : "Only its creator or an admin may change this.";
  return (
    <Page title={saved ? "Edit task" : "New task"}>
      <p>
        <Link href={listUrl()}>Back to the tasks</Link>
      </p>
      <ActionForm class="card form" noValidate onRun={save.run}>
        {save.succeeded ? (
          <p class="banner banner-ok" role="status">
            Saved.
          </p>
        ) : null}
        <ProblemBanner problem={save.problem} fields={FIELDS} />
        <Field label="Title" name="title" problem={save.problem} hint={locked}>
          {(props) => (
            <input
              {...props}
              required
              maxLength={350}
              disabled={!editable}
              value={draft.title}
              onInput={set("title")}
            />
          )}
        </Field>
        <Field label="Description" name="description" problem={save.problem} hint={locked}>
          {(props) => (
            <textarea
              {...props}
              rows={5}
              maxLength={10000}
              disabled={!editable}
              value={draft.description}
              onInput={set("description")}
            />
          )}
        </Field>
        <Field label="Status" name="status" problem={save.problem}>
          {(props) => (
            <select {...props} value={draft.status} onChange={set("status")}>
              {STATUSES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Expires"
          name="expires_at"
          problem={save.problem}
          hint={
            locked ??
            (saved?.expires_at
              ? `${isExpired(saved, now) ? "Expired" : "Expires"} ${relativeTime(saved.expires_at, now)} (${absoluteTime(saved.expires_at)}). Empty: never.`
              : "Your local time. Empty: never. You are notified 15 minutes before.")
          }
        >
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              disabled={!editable}
              value={draft.expires}
              onInput={set("expires")}
            />
          )}
        </Field>
        <div class="form-actions">
          <Submit busy={save.busy} busyText={saved ? "Saving…" : "Creating…"}>
            {saved ? "Save" : "Create task"}
          </Submit>
          {saved && editable ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          ) : null}
        </div>
        {saved ? (
          <p class="muted small">
            Created by {saved.created_by.username} {relativeTime(saved.created_at, now)}; changed{" "}
            {relativeTime(saved.updated_at, now)}.
          </p>
        ) : null}
      </ActionForm>
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this task?"
        confirmText="Delete 1 task"
        danger
        busy={remove.busy}
        onConfirm={() => void remove.run()}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>“{saved?.title}” cannot be brought back.</p>
        <ProblemBanner problem={remove.problem} />
      </ConfirmDialog>
    </Page>
  );
}
