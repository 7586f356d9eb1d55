import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { Link } from "../router";
import { useAction } from "../ui/action";
import { ActionForm, EmailField, Submit } from "../ui/field";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";

/** Ask for a reset mail. The answer is the same whether the address has an account or not. */
export default function ForgotPassword() {
  const [email, setEmail] = useState("");
  const action = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/password/forgot", { body: { email } }));
  });
  return (
    <Page title="Forgot your password?">
      {action.succeeded ? (
        <div class="banner banner-ok" role="status">
          <p>
            If <strong>{email}</strong> has an account, a mail with a link to choose a new password is on its way. The
            link works once, for a limited time.
          </p>
        </div>
      ) : null}
      <ActionForm class="card form narrow" onRun={action.run}>
        <p>Enter your address and we mail you a link to choose a new password.</p>
        <ProblemBanner problem={action.problem} fields={["email"]} />
        <EmailField label="Email" name="email" problem={action.problem} value={email} onValue={setEmail} />
        <Submit busy={action.busy} busyText="Sending…">
          Send the link
        </Submit>
      </ActionForm>
      <p class="links">
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
