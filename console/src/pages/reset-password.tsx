import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { useFragmentToken } from "../fragment-token";
import { Link, navigate } from "../router";
import { signedOut } from "../session";
import { useAction } from "../ui/action";
import { ActionForm, PasswordField, Submit, useDraft } from "../ui/field";
import { Page } from "../ui/page";

/** Reached from the reset mail's link: choose a new password; every earlier sign-in of the account ends. */
export default function ResetPassword() {
  const token = useFragmentToken();
  const draft = useDraft({ password: "", repeat: "" });
  const [mismatch, setMismatch] = useState(false);
  const action = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/password/reset", { body: { token: token!, password: draft.values.password } }));
    signedOut(); // the reset ended every session of the account, this browser's included
    navigate("/sign-in?notice=password-reset", { replace: true });
  });
  if (!token) {
    return (
      <Page title="Choose a new password">
        <div class="banner banner-error" role="alert">
          <p>
            This page needs the link from the reset mail. Open the mail and use its link again, or ask for a new one.
          </p>
        </div>
        <p>
          <Link href="/forgot-password">Ask for a new link</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Choose a new password">
      <ActionForm
        class="card form narrow"
        action={action}
        onRun={() => {
          const differ = draft.values.password !== draft.values.repeat;
          setMismatch(differ);
          if (!differ) void action.run();
        }}
      >
        <PasswordField label="New password" {...draft.bind("password")} kind="new" />
        <PasswordField
          label="Repeat the new password"
          {...draft.bind("repeat")}
          kind="repeat"
          error={mismatch ? "The two passwords differ." : undefined}
        />
        <Submit busyText="Saving…">Save the new password</Submit>
      </ActionForm>
    </Page>
  );
}
