import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link, navigate, safeNext, useLocation } from "../router";
import { signedIn, signupStore } from "../session";
import { useStore } from "../store";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, PasswordField, Submit, UsernameField, useDraft } from "../ui/field";
import { Page } from "../ui/page";

/** Create a member account (only while sign-up is on); signed in at once, the address verified from the mail. */
export default function SignUp() {
  const signup = useStore(signupStore);
  const { query } = useLocation();
  const draft = useDraft({ email: "", username: "", password: "" });
  const action = useAction(async () => {
    const { email, username, password } = draft.values;
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
      <ActionForm class="card form narrow" action={action}>
        <EmailField
          label="Email"
          {...draft.bind("email")}
          hint="We mail you a link to confirm it."
          autoComplete="email"
        />
        <UsernameField label="Username (optional)" {...draft.bind("username")} autoComplete="nickname" optional />
        <PasswordField label="Password" {...draft.bind("password")} kind="new" />
        <Submit busyText="Creating…">Create account</Submit>
      </ActionForm>
      <p class="links">
        Have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </Page>
  );
}
