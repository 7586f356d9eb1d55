import { useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { useAction } from "../../ui/action";
import { ActionButton } from "../../ui/button";
import { ConfirmDialog } from "../../ui/dialog";
import {
  ActionForm,
  Field,
  PasswordField,
  SaveButtons,
  SelectField,
  TextField,
  UsernameField,
  useDraft,
} from "../../ui/field";
import { BackLink } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { RecordPage } from "../../ui/record";
import { Facts, VerifiedEmail } from "../../ui/table";
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

function Existing({ id }: { id: string }) {
  const user = useLoad(id, () => unwrap(api.GET("/api/v1/users/{id}", { params: { path: { id } } })));
  return (
    <RecordPage record={user} title="User" what="the user" back={userList}>
      {(data) => <UserForms initial={data as ManagedUser} />}
    </RecordPage>
  );
}

function UserForms({ initial }: { initial: ManagedUser }) {
  const { user: me } = useSession();
  const [target, setTarget] = useState(initial);
  const profile = useDraft({ email: initial.email, username: initial.username });
  const [role, setRole] = useState<AssignableRole>(initial.role === "admin" ? "admin" : "member");
  const [confirm, setConfirm] = useState<"role" | "delete" | null>(null);

  const patch = async (body: { email?: string; username?: string; role?: AssignableRole }) => {
    const updated = (await unwrap(
      api.PATCH("/api/v1/users/{id}", { params: { path: { id: target.id } }, body }),
    )) as ManagedUser;
    setTarget(updated);
    profile.setValues({ email: updated.email, username: updated.username });
    setRole(updated.role === "admin" ? "admin" : "member");
  };
  const saveProfile = useAction(async () => {
    const body: { email?: string; username?: string } = {};
    if (profile.values.email !== target.email) body.email = profile.values.email;
    if (profile.values.username !== target.username) body.username = profile.values.username;
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
      <BackLink to={userList} />
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title">Account</h2>
        <Facts
          rows={[
            ["Email", <VerifiedEmail key="email" email={target.email} verified={target.email_verified} />],
            ["Role", `${target.role}${isSelf ? " (you)" : ""}`],
            ["Since", absoluteTime(target.created_at)],
            ["Changed", absoluteTime(target.updated_at)],
          ]}
        />
      </section>

      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Email and username</h2>
        <ActionForm
          class="form"
          noValidate
          action={saveProfile}
          done="Saved. An address set by an admin counts as verified."
          onRun={() => !profileWhy && void saveProfile.run()}
        >
          {profileWhy ? (
            <p class="hint why" id="profile-why">
              {profileWhy}
            </p>
          ) : null}
          <TextField
            label="Email"
            {...profile.bind("email")}
            type="email"
            autoComplete="off"
            disabled={Boolean(profileWhy)}
            describedBy={profileWhy ? "profile-why" : undefined}
          />
          <UsernameField
            label="Username"
            {...profile.bind("username")}
            autoComplete="off"
            disabled={Boolean(profileWhy)}
            describedBy={profileWhy ? "profile-why" : undefined}
          />
          {profileWhy ? null : <SaveButtons create={null} />}
        </ActionForm>
      </section>

      <section class="card" aria-labelledby="role-title">
        <h2 id="role-title">Role</h2>
        <div class="form">
          <Field label="Role" name="role" describedBy={roleReasons.length ? "role-why" : undefined}>
            {(wiring) => (
              <select
                {...wiring}
                value={target.role === "superuser" ? "" : role}
                disabled={roleBlocked}
                onChange={(e) => setRole(e.currentTarget.value as AssignableRole)}
              >
                {target.role === "superuser" ? <option value="">Superuser</option> : null}
                {ASSIGNABLE_ROLES.map((r) => (
                  <option key={r.value} value={r.value} disabled={r.value !== currentRole && roleWhy(r.value) !== null}>
                    {r.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {roleReasons.length ? (
            <p class="hint why" id="role-why">
              {roleReasons.join(" ")}
            </p>
          ) : (
            <p class="hint">A new role signs them out everywhere: their tokens end at once.</p>
          )}
          {roleBlocked ? null : (
            <div class="form-actions">
              <ActionButton
                reason={role === currentRole ? "Choose another role first." : null}
                class="primary"
                onClick={() => setConfirm("role")}
              >
                Change role
              </ActionButton>
            </div>
          )}
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
        <ActionButton reason={deleteWhy} class="danger" onClick={() => setConfirm("delete")}>
          Delete {target.username}
        </ActionButton>
      </section>

      <ConfirmDialog
        open={confirm === "role"}
        title={`Make ${target.username} ${role === "admin" ? "an admin" : "a member"}?`}
        confirmText="Change role"
        action={saveRole}
        onClose={() => setConfirm(null)}
      >
        <p>They are signed out everywhere and sign in again with their new role.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "delete"}
        title={`Delete ${target.username}?`}
        confirmText="Delete user"
        danger
        action={remove}
        onClose={() => setConfirm(null)}
      >
        <p>{target.email} can no longer sign in. This cannot be undone from the console.</p>
      </ConfirmDialog>
    </Page>
  );
}

function NewUser() {
  const { user: me } = useSession();
  const draft = useDraft({ email: "", username: "", password: "", role: "member" });
  const create = useAction(async () => {
    const body = { ...draft.values, role: draft.values.role as AssignableRole };
    const created = (await unwrap(api.POST("/api/v1/users", { body }))) as ManagedUser;
    navigate(`/users/${created.id}`, { replace: true });
  });
  const roles = ASSIGNABLE_ROLES.map((r) => ({
    ...r,
    disabled: whyNot(me, null, { kind: "create", role: r.value }) !== null,
  }));
  return (
    <Page title="New user">
      <BackLink to={userList} />
      <ActionForm class="card form" noValidate action={create}>
        <TextField
          label="Email"
          {...draft.bind("email")}
          type="email"
          autoComplete="off"
          required
          hint="An address you vouch for: it counts as verified."
        />
        <UsernameField label="Username" {...draft.bind("username")} autoComplete="off" />
        <PasswordField
          label="Password"
          {...draft.bind("password")}
          kind="new"
          hint="8 to 128 characters; tell it to them."
        />
        <SelectField
          label="Role"
          {...draft.bind("role")}
          options={roles}
          hint={whyNot(me, null, { kind: "create", role: "admin" }) ?? undefined}
        />
        <SaveButtons create="Create user" />
      </ActionForm>
    </Page>
  );
}
