import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { ActionForm, SaveButtons, SelectField, TextField, useDraft } from "../../ui/field";
import { BackLink } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { RecordPage } from "../../ui/record";
import { absoluteTime, fromLocalInput, relativeTime, toLocalInput } from "../../ui/time";
import { isExpired, mayEdit, STATUSES, type Status, type Task, taskList } from "./model";

const draftOf = (task: Task | null) => ({
  title: task?.title ?? "",
  description: task?.description ?? "",
  status: task?.status ?? "todo",
  expires_at: toLocalInput(task?.expires_at ?? null),
});

/** Create a task (/tasks/new) or edit one (/tasks/:id); the server's per-field problems are shown at the fields. */
export default function TaskEdit() {
  const { params } = useLocation();
  const id = params.id ?? null;
  return id ? <Existing id={id} key={id} /> : <TaskForm task={null} />;
}

function Existing({ id }: { id: string }) {
  const task = useLoad(id, () => unwrap(api.GET("/api/v1/tasks/{id}", { params: { path: { id } } })));
  return (
    <RecordPage record={task} title="Task" what="the task" back={taskList}>
      {(data) => <TaskForm task={data as Task} />}
    </RecordPage>
  );
}

function TaskForm({ task }: { task: Task | null }) {
  const { user } = useSession();
  const now = useNow();
  const draft = useDraft(draftOf(task));
  const [saved, setSaved] = useState<Task | null>(task);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const editable = saved === null || mayEdit(saved, user);

  const save = useAction(async () => {
    const { title, description, status, expires_at } = draft.values;
    const body = { title, description, status: status as Status, expires_at: fromLocalInput(expires_at) };
    if (!saved) {
      await unwrap(api.POST("/api/v1/tasks", { body }));
      navigate(taskList.url());
      return;
    }
    // Someone who may change only the status sends only the status.
    const changes = editable ? body : { status: body.status };
    const updated = (await unwrap(
      api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: saved.id } }, body: changes }),
    )) as Task;
    setSaved(updated);
    draft.setValues(draftOf(updated));
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/tasks/{id}", { params: { path: { id: saved!.id } } }));
    setConfirmDelete(false);
    navigate(taskList.url());
  });

  const locked = editable ? undefined : "Only its creator or an admin may change this.";
  return (
    <Page title={saved ? "Edit task" : "New task"}>
      <BackLink to={taskList} />
      <ActionForm class="card form" noValidate action={save} done="Saved.">
        <TextField label="Title" {...draft.bind("title")} required maxLength={350} disabled={!editable} hint={locked} />
        <TextField
          label="Description"
          {...draft.bind("description")}
          rows={5}
          maxLength={10000}
          disabled={!editable}
          hint={locked}
        />
        <SelectField label="Status" {...draft.bind("status")} options={STATUSES} />
        <TextField
          label="Expires"
          {...draft.bind("expires_at")}
          type="datetime-local"
          disabled={!editable}
          hint={
            locked ??
            (saved?.expires_at
              ? `${isExpired(saved, now) ? "Expired" : "Expires"} ${relativeTime(saved.expires_at, now)} (${absoluteTime(saved.expires_at)}). Empty: never.`
              : "Your local time. Empty: never. You are notified 15 minutes before.")
          }
        />
        <SaveButtons
          create={saved ? null : "Create task"}
          onDelete={saved && editable ? () => setConfirmDelete(true) : undefined}
        />
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
        action={remove}
        onClose={() => setConfirmDelete(false)}
      >
        <p>“{saved?.title}” cannot be brought back.</p>
      </ConfirmDialog>
    </Page>
  );
}
