import { useState } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { useFragmentToken } from "../fragment-token";
import { Link, navigate } from "../router";
import { signedOut } from "../session";
import { useAction } from "../ui/action";
import { PasswordField, Submit } from "../ui/field";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";

/** Reached from the reset mail's link: choose a new password; every earlier sign-in of the account ends. */
export default function ResetPassword() {
  const token = useFragmentToken();
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const action = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/password/reset", { body: { token: token!, password } }));
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
      <form
        class="card form narrow"
        onSubmit={(event) => {
          event.preventDefault();
          setMismatch(password !== repeat);
          if (password === repeat) void action.run();
        }}
      >
        <ProblemBanner problem={action.problem} fields={["password"]} />
        <PasswordField
          label="New password"
          name="password"
          problem={action.problem}
          value={password}
          onValue={setPassword}
          fresh
        />
        <div class={`field${mismatch ? " field-invalid" : ""}`}>
          <label for="repeat-password">Repeat the new password</label>
          <input
            id="repeat-password"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={mismatch}
            aria-describedby={mismatch ? "repeat-password-error" : undefined}
            value={repeat}
            onInput={(e) => setRepeat(e.currentTarget.value)}
          />
          {mismatch ? (
            <p class="field-error" id="repeat-password-error">
              The two passwords differ.
            </p>
          ) : null}
        </div>
        <Submit busy={action.busy} busyText="Saving…">
          Save the new password
        </Submit>
      </form>
    </Page>
  );
}
