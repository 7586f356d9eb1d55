import type { ComponentChildren } from "preact";
import { useId, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { Field, Submit } from "../../ui/field";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime } from "../../ui/time";
import { ASSIGNABLE_ROLES, type AssignableRole, type ManagedUser, userList, whyNot } from "./model";

/**
 * One account (/users/:id): change its email and username, its role, or delete it; or create one (/users/new).
 * What the API would refuse the signed-in admin (the superuser, other admins, their own role or account) is shown
 * disabled with the reason, from the API's own policy module.
 */
export default function UserPage() {
  const { params } = useLocation();
  return params.id ? <Existing id={params.id} key={params.id} /> : <NewUser />;
}

function Back() {
  return (
    <p>
      <Link href={userList.url()}>Back to the users</Link>
    </p>
  );
}

/** A button that stays focusable while it may not be used, and says why (aria-disabled plus the reason). */
function GuardedButton({
  reason,
  busy = false,
  class: className,
  onClick,
  children,
}: {
  reason: string | null;
  busy?: boolean;
  class?: string;
  onClick: () => void;
  children: ComponentChildren;
}) {
  const id = useId();
  return (
    <>
      <button
        type="button"
        class={className}
        aria-disabled={Boolean(reason) || busy}
        aria-busy={busy}
        aria-describedby={reason ? `${id}-why` : undefined}
        onClick={() => {
          if (!reason && !busy) onClick();
        }}
      >
        {busy ? <span class="spinner" aria-hidden="true" /> : null}
        {children}
      </button>
      {reason ? (
        <p class="hint why" id={`${id}-why`}>
          {reason}
        </p>
      ) : null}
    </>
  );
}

function Existing({ id }: { id: string }) {
  const loaded = useLoad(id, () => unwrap(api.GET("/api/v1/users/{id}", { params: { path: { id } } })));
  if (loaded.data) return <UserForms initial={loaded.data as ManagedUser} />;
  return (
    <Page title="User">
      <ProblemBanner problem={loaded.problem} />
      {loaded.loading ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          Loading the user…
        </p>
      ) : null}
      <Back />
    </Page>
  );
}

function UserForms({ initial }: { initial: ManagedUser }) {
  const { user: me } = useSession();
  const [target, setTarget] = useState(initial);
  const [profile, setProfile] = useState({ email: initial.email, username: initial.username });
  const [role, setRole] = useState<AssignableRole>(initial.role === "admin" ? "admin" : "member");
  const [confirm, setConfirm] = useState<"role" | "delete" | null>(null);

  const patch = async (body: { email?: string; username?: string; role?: AssignableRole }) => {
    const updated = (await unwrap(
      api.PATCH("/api/v1/users/{id}", { params: { path: { id: target.id } }, body }),
    )) as ManagedUser;
    setTarget(updated);
    setProfile({ email: updated.email, username: updated.username });
    setRole(updated.role === "admin" ? "admin" : "member");
  };
  const saveProfile = useAction(async () => {
    const body: { email?: string; username?: string } = {};
    if (profile.email !== target.email) body.email = profile.email;
    if (profile.username !== target.username) body.username = profile.username;
    if (Object.keys(body).length > 0) await patch(body);
  });
  const saveRole = useAction(async () => {
    await patch({ role });
    setConfirm(null);
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/users/{id}", { params: { path: { id: target.id } } }));
    setConfirm(null);
    navigate(userList.url());
  });

  const profileWhy = whyNot(me, target, { kind: "update" });
  const deleteWhy = whyNot(me, target, { kind: "delete" });
  const roleWhy = (r: AssignableRole) => whyNot(me, target, { kind: "update", role: r });
  const currentRole = target.role === "admin" ? "admin" : "member";
  const roleBlocked = ASSIGNABLE_ROLES.every((r) => r.value === currentRole || roleWhy(r.value) !== null);
  const roleReasons = [
    ...new Set(
      ASSIGNABLE_ROLES.filter((r) => r.value !== currentRole)
        .map((r) => roleWhy(r.value))
        .filter((why): why is string => why !== null),
    ),
  ];
  const isSelf = me?.id === target.id;

  return (
    <Page title={target.username}>
      <Back />
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title">Account</h2>
        <dl class="facts">
          <dt>Email</dt>
          <dd>
            {target.email}{" "}
            {target.email_verified ? (
              <span class="tag tag-ok">verified</span>
            ) : (
              <span class="tag tag-warn">not verified</span>
            )}
          </dd>
          <dt>Role</dt>
          <dd>
            {target.role}
            {isSelf ? " (you)" : ""}
          </dd>
          <dt>Since</dt>
          <dd>{absoluteTime(target.created_at)}</dd>
          <dt>Changed</dt>
          <dd>{absoluteTime(target.updated_at)}</dd>
        </dl>
      </section>

      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Email and username</h2>
        <form
          class="form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (!profileWhy) void saveProfile.run();
          }}
        >
          {saveProfile.succeeded ? (
            <p class="banner banner-ok" role="status">
              Saved. An address set by an admin counts as verified.
            </p>
          ) : null}
          <ProblemBanner problem={saveProfile.problem} fields={["email", "username"]} />
          {profileWhy ? (
            <p class="hint why" id="profile-why">
              {profileWhy}
            </p>
          ) : null}
          <Field label="Email" name="email" problem={saveProfile.problem}>
            {(props) => (
              <input
                {...props}
                type="email"
                autoComplete="off"
                disabled={Boolean(profileWhy)}
                aria-describedby={profileWhy ? "profile-why" : props["aria-describedby"]}
                value={profile.email}
                onInput={(e) => setProfile({ ...profile, email: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field label="Username" name="username" problem={saveProfile.problem}>
            {(props) => (
              <input
                {...props}
                autoComplete="off"
                disabled={Boolean(profileWhy)}
                aria-describedby={profileWhy ? "profile-why" : props["aria-describedby"]}
                value={profile.username}
                onInput={(e) => setProfile({ ...profile, username: e.currentTarget.value })}
              />
            )}
          </Field>
          {profileWhy ? null : (
            <div class="form-actions">
              <Submit busy={saveProfile.busy} busyText="Saving…">
                Save
              </Submit>
            </div>
          )}
        </form>
      </section>

      <section class="card" aria-labelledby="role-title">
        <h2 id="role-title">Role</h2>
        <div class="form">
          <div class="field">
            <label for="user-role">Role</label>
            <select
              id="user-role"
              value={target.role === "superuser" ? "" : role}
              disabled={roleBlocked}
              aria-describedby={roleReasons.length ? "role-why" : undefined}
              onChange={(e) => setRole(e.currentTarget.value as AssignableRole)}
            >
              {target.role === "superuser" ? <option value="">Superuser</option> : null}
              {ASSIGNABLE_ROLES.map((r) => (
                <option key={r.value} value={r.value} disabled={r.value !== currentRole && roleWhy(r.value) !== null}>
                  {r.label}
                </option>
              ))}
            </select>
            {roleReasons.length ? (
              <p class="hint why" id="role-why">
                {roleReasons.join(" ")}
              </p>
            ) : (
              <p class="hint">A new role signs them out everywhere: their tokens end at once.</p>
            )}
          </div>
          {roleBlocked ? null : (
            <div class="form-actions">
              <GuardedButton
                reason={role === currentRole ? "Choose another role first." : null}
                class="primary"
                onClick={() => setConfirm("role")}
              >
                Change role
              </GuardedButton>
            </div>
          )}
          <ProblemBanner problem={confirm === null ? saveRole.problem : null} />
          {saveRole.succeeded ? (
            <p class="banner banner-ok" role="status">
              Role changed to {target.role}.
            </p>
          ) : null}
        </div>
      </section>

      <section class="card" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete</h2>
        <p>The account stops working at once. Its tasks and history stay.</p>
        <GuardedButton reason={deleteWhy} class="danger" onClick={() => setConfirm("delete")}>
          Delete {target.username}
        </GuardedButton>
      </section>

      <ConfirmDialog
        open={confirm === "role"}
        title={`Make ${target.username} ${role === "admin" ? "an admin" : "a member"}?`}
        confirmText="Change role"
        busy={saveRole.busy}
        onConfirm={() => void saveRole.run()}
        onCancel={() => {
          setConfirm(null);
          saveRole.setProblem(null);
        }}
      >
        <p>They are signed out everywhere and sign in again with their new role.</p>
        <ProblemBanner problem={saveRole.problem} />
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "delete"}
        title={`Delete ${target.username}?`}
        confirmText="Delete user"
        danger
        busy={remove.busy}
        onConfirm={() => void remove.run()}
        onCancel={() => {
          setConfirm(null);
          remove.setProblem(null);
        }}
      >
        <p>{target.email} can no longer sign in. This cannot be undone from the console.</p>
        <ProblemBanner problem={remove.problem} />
      </ConfirmDialog>
    </Page>
  );
}

const CREATE_FIELDS = ["email", "username", "password", "role"];

function NewUser() {
  const { user: me } = useSession();
  const [draft, setDraft] = useState({ email: "", username: "", password: "", role: "member" as AssignableRole });
  const create = useAction(async () => {
    const created = (await unwrap(api.POST("/api/v1/users", { body: draft }))) as ManagedUser;
    navigate(`/users/${created.id}`, { replace: true });
  });
  const set = (key: "email" | "username" | "password") => (event: Event) =>
    setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value });
  const adminWhy = whyNot(me, null, { kind: "create", role: "admin" });
  return (
    <Page title="New user">
      <Back />
      <form
        class="card form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void create.run();
        }}
      >
        <ProblemBanner problem={create.problem} fields={CREATE_FIELDS} />
        <Field
          label="Email"
          name="email"
          problem={create.problem}
          hint="An address you vouch for: it counts as verified."
        >
          {(props) => (
            <input {...props} type="email" autoComplete="off" required value={draft.email} onInput={set("email")} />
          )}
        </Field>
        <Field
          label="Username"
          name="username"
          problem={create.problem}
          hint="3 to 30 letters, digits, '_', '.' or '-'."
        >
          {(props) => <input {...props} autoComplete="off" required value={draft.username} onInput={set("username")} />}
        </Field>
        <Field label="Password" name="password" problem={create.problem} hint="8 to 128 characters; tell it to them.">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              required
              value={draft.password}
              onInput={set("password")}
            />
          )}
        </Field>
        <Field label="Role" name="role" problem={create.problem} hint={adminWhy ?? undefined}>
          {(props) => (
            <select
              {...props}
              value={draft.role}
              onChange={(e) => setDraft({ ...draft, role: e.currentTarget.value as AssignableRole })}
            >
              {ASSIGNABLE_ROLES.map((r) => (
                <option
                  key={r.value}
                  value={r.value}
                  disabled={whyNot(me, null, { kind: "create", role: r.value }) !== null}
                >
                  {r.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="form-actions">
          <Submit busy={create.busy} busyText="Creating…">
            Create user
          </Submit>
        </div>
      </form>
    </Page>
  );
}
