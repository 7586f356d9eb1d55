import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link } from "../router";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, Submit, useDraft } from "../ui/field";
import { Page } from "../ui/page";

/** Ask for a reset mail. The answer is the same whether the address has an account or not. */
export default function ForgotPassword() {
  const draft = useDraft({ email: "" });
  const action = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/password/forgot", { body: draft.values }));
  });
  return (
    <Page title="Forgot your password?">
      <ActionForm
        class="card form narrow"
        action={action}
        done={
          <>
            If <strong>{draft.values.email}</strong> has an account, a mail with a link to choose a new password is on
            its way. The link works once, for a limited time.
          </>
        }
      >
        <p>Enter your address and we mail you a link to choose a new password.</p>
        <EmailField label="Email" {...draft.bind("email")} />
        <Submit busyText="Sending…">Send the link</Submit>
      </ActionForm>
      <p class="links">
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
