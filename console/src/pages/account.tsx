import { useState } from "preact/hooks";
import { api } from "../api/client";
import { problemText, unwrap } from "../api/problem";
import { navigate } from "../router";
import { signedOut, useSession } from "../session";
import { useAction } from "../ui/action";
import { ConfirmDialog } from "../ui/dialog";
import { ActionForm, PasswordField, Submit } from "../ui/field";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";
import { absoluteTime } from "../ui/time";

/** Who you are, a new password, and signing out here or everywhere. */
export default function Account() {
  const { user } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirming, setConfirming] = useState(false);
  const change = useAction(async () => {
    // A cookie caller gets fresh cookies back; every other sign-in of the account ends.
    await unwrap(api.POST("/api/v1/auth/password/change", { body: { current_password: current, new_password: next } }));
    setCurrent("");
    setNext("");
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
        <dl class="facts">
          <dt>Email</dt>
          <dd>
            {user.email}{" "}
            {user.email_verified ? (
              <span class="tag tag-ok">verified</span>
            ) : (
              <span class="tag tag-warn">not verified</span>
            )}
          </dd>
          <dt>Username</dt>
          <dd>{user.username}</dd>
          <dt>Role</dt>
          <dd>{user.role}</dd>
          <dt>Member since</dt>
          <dd>{absoluteTime(user.created_at)}</dd>
        </dl>
      </section>

      <section class="card" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <ActionForm class="form" onRun={change.run}>
          {change.succeeded ? (
            <p class="banner banner-ok" role="status">
              Password changed. Your other sign-ins have ended; this one goes on.
            </p>
          ) : null}
          <ProblemBanner problem={change.problem} fields={["current_password", "new_password"]} />
          <PasswordField
            label="Current password"
            name="current_password"
            problem={change.problem}
            value={current}
            onValue={setCurrent}
          />
          <PasswordField
            label="New password"
            name="new_password"
            problem={change.problem}
            value={next}
            onValue={setNext}
            fresh
          />
          <Submit busy={change.busy} busyText="Changing…">
            Change password
          </Submit>
        </ActionForm>
      </section>

      <section class="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sign out everywhere</h2>
        <p>Ends every sign-in of your account at once: other browsers, other devices, and this one.</p>
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Sign out everywhere
        </button>
        {everywhere.problem && !confirming ? (
          <p role="alert" class="field-error">
            {problemText(everywhere.problem)}
          </p>
        ) : null}
      </section>
      <ConfirmDialog
        open={confirming}
        title="Sign out everywhere?"
        confirmText="Sign out everywhere"
        danger
        busy={everywhere.busy}
        onConfirm={() => void everywhere.run()}
        onCancel={() => setConfirming(false)}
      >
        <p>Every browser and device signed in to {user.email} will need to sign in again.</p>
        {everywhere.problem ? <ProblemBanner problem={everywhere.problem} /> : null}
      </ConfirmDialog>
    </Page>
  );
}
