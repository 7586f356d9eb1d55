import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link, navigate, safeNext, useLocation } from "../router";
import { signedIn, signupStore } from "../session";
import { useStore } from "../store";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, PasswordField, Submit, useDraft } from "../ui/field";
import { Page } from "../ui/page";

/** Sign in with email and password: the API sets the session cookies; then back to the page that asked, if any. */
export default function SignIn() {
  const { query } = useLocation();
  const signup = useStore(signupStore);
  const draft = useDraft({ email: "", password: "" });
  const next = safeNext(query.get("next"));
  const action = useAction(async () => {
    const session = await unwrap(api.POST("/api/v1/auth/session", { body: draft.values }));
    signedIn(session.user);
    navigate(next ?? "/tasks", { replace: true });
  });
  return (
    <Page title="Sign in">
      {query.get("notice") === "password-reset" ? (
        <p class="banner banner-ok" role="status">
          Your password was changed. Sign in with the new one.
        </p>
      ) : null}
      {next ? (
        <p class="muted">
          Sign in to continue to <code>{next}</code>.
        </p>
      ) : null}
      <ActionForm class="card form narrow" action={action}>
        <EmailField label="Email" {...draft.bind("email")} />
        <PasswordField label="Password" {...draft.bind("password")} />
        <Submit busyText="Signing in…">Sign in</Submit>
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
