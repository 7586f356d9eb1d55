import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link, navigate, safeNext, useLocation } from "../router";
import { signedIn, signupStore } from "../session";
import { useStore } from "../store";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, PasswordField, Submit } from "../ui/field";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";

/** Sign in with email and password: the API sets the session cookies; then back to the page that asked, if any. */
export default function SignIn() {
  const { query } = useLocation();
  const signup = useStore(signupStore);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const next = safeNext(query.get("next"));
  const notice = query.get("notice");
  const action = useAction(async () => {
    const session = await unwrap(api.POST("/api/v1/auth/session", { body: { email, password } }));
    signedIn(session.user);
    navigate(next ?? "/tasks", { replace: true });
  });
  return (
    <Page title="Sign in">
      {notice === "password-reset" ? (
        <p class="banner banner-ok" role="status">
          Your password was changed. Sign in with the new one.
        </p>
      ) : null}
      {next ? <p class="muted">Sign in to open {next}.</p> : null}
      <ActionForm class="card form narrow" onRun={action.run}>
        <ProblemBanner problem={action.problem} fields={["email", "password"]} />
        <EmailField label="Email" name="email" problem={action.problem} value={email} onValue={setEmail} />
        <PasswordField
          label="Password"
          name="password"
          problem={action.problem}
          value={password}
          onValue={setPassword}
        />
        <Submit busy={action.busy} busyText="Signing in…">
          Sign in
        </Submit>
      </ActionForm>
      <p class="links">
        <Link href="/forgot-password">Forgot your password?</Link>
        {signup ? (
          <>
            {" · "}
            <Link href={next ? `/sign-up?next=${encodeURIComponent(next)}` : "/sign-up"}>Create an account</Link>
          </>
        ) : null}
      </p>
    </Page>
  );
}
