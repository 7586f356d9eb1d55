import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link, navigate, safeNext, useLocation } from "../router";
import { signedIn, signupStore } from "../session";
import { useStore } from "../store";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, Field, PasswordField, Submit } from "../ui/field";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";

/** Create a member account (only while sign-up is on); signed in at once, the address verified from the mail. */
export default function SignUp() {
  const signup = useStore(signupStore);
  const { query } = useLocation();
  const [email, setEmail] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(async () => {
    const body = { email, password, ...(username.trim() ? { username: username.trim() } : {}) };
    const session = await unwrap(api.POST("/api/v1/auth/session/register", { body }));
    signedIn(session.user);
    navigate(safeNext(query.get("next")) ?? "/tasks", { replace: true });
  });
  if (!signup) {
    return (
      <Page title="Sign-up is off">
        <p>Accounts here are created by an admin. Ask one for an account, then sign in.</p>
        <p>
          <Link href="/sign-in">Sign in</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Create an account">
      <ActionForm class="card form narrow" onRun={action.run}>
        <ProblemBanner problem={action.problem} fields={["email", "username", "password"]} />
        <EmailField
          label="Email"
          name="email"
          problem={action.problem}
          value={email}
          onValue={setEmail}
          hint="We mail you a link to confirm it."
          autoComplete="email"
        />
        <Field
          label="Username (optional)"
          name="username"
          problem={action.problem}
          hint="3 to 30 of a–z, 0–9, _ . -; made from your email when left empty."
        >
          {(props) => (
            <input
              {...props}
              autoComplete="nickname"
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          )}
        </Field>
        <PasswordField
          label="Password"
          name="password"
          problem={action.problem}
          value={password}
          onValue={setPassword}
          fresh
        />
        <Submit busy={action.busy} busyText="Creating…">
          Create account
        </Submit>
      </ActionForm>
      <p class="links">
        Have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </Page>
  );
}
