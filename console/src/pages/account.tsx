import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { navigate } from "../router";
import { signedOut, useSession } from "../session";
import { useAction } from "../ui/action";
import { ConfirmDialog } from "../ui/dialog";
import { ActionForm, PasswordField, Submit, useDraft } from "../ui/field";
import { Page } from "../ui/page";
import { Facts, VerifiedEmail } from "../ui/table";
import { absoluteTime } from "../ui/time";

/** Who you are, a new password, and signing out here or everywhere. */
export default function Account() {
  const { user } = useSession();
  const draft = useDraft({ current_password: "", new_password: "" });
  const [confirming, setConfirming] = useState(false);
  const change = useAction(async () => {
    // A cookie caller gets fresh cookies back; every other sign-in of the account ends.
    await unwrap(api.POST("/api/v1/auth/password/change", { body: draft.values }));
    draft.setValues({ current_password: "", new_password: "" });
  });
  const everywhere = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/logout-all"));
    setConfirming(false);
    signedOut();
    navigate("/sign-in", { replace: true });
  });
  if (!user) return null;
  return (
    <Page title="Your account">
      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <Facts
          rows={[
            ["Email", <VerifiedEmail key="email" email={user.email} verified={user.email_verified} />],
            ["Username", user.username],
            ["Role", user.role],
            ["Member since", absoluteTime(user.created_at)],
          ]}
        />
      </section>

      <section class="card" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <ActionForm
          class="form"
          action={change}
          done="Password changed. Your other sign-ins have ended; this one goes on."
        >
          <PasswordField label="Current password" {...draft.bind("current_password")} />
          <PasswordField label="New password" {...draft.bind("new_password")} kind="new" />
          <div class="form-actions">
            <Submit busyText="Changing…">Change password</Submit>
          </div>
        </ActionForm>
      </section>

      <section class="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sign out everywhere</h2>
        <p>Ends every sign-in of your account at once: other browsers, other devices, and this one.</p>
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Sign out everywhere
        </button>
      </section>
      <ConfirmDialog
        open={confirming}
        title="Sign out everywhere?"
        confirmText="Sign out everywhere"
        danger
        action={everywhere}
        onClose={() => setConfirming(false)}
      >
        <p>Every browser and device signed in to {user.email} will need to sign in again.</p>
      </ConfirmDialog>
    </Page>
  );
}
