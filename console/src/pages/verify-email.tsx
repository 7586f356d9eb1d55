import { useEffect } from "preact/hooks";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { useFragmentToken } from "../fragment-token";
import { Link } from "../router";
import { loadSession, useSession } from "../session";
import { useAction } from "../ui/action";
import { Loading } from "../ui/loading";
import { Page } from "../ui/page";
import { ProblemBanner } from "../ui/problem-banner";

/** Reached from the verification mail's link: posts its token once, then says what happened. */
export default function VerifyEmail() {
  const token = useFragmentToken();
  const { user } = useSession();
  const action = useAction(async () => {
    await unwrap(api.POST("/api/v1/auth/verify-email", { body: { token: token! } }));
    if (user) await loadSession(); // the banner about the unverified address goes away
  });
  useEffect(() => {
    if (token) void action.run();
  }, [token]);
  const onward = user ? <Link href="/tasks">Go to the tasks</Link> : <Link href="/sign-in">Sign in</Link>;
  return (
    <Page title="Verify your email">
      {!token ? (
        <div class="banner banner-error" role="alert">
          <p>This page needs the link from the verification mail. Open the mail and use its link again.</p>
        </div>
      ) : action.busy ? (
        <Loading>Verifying your address…</Loading>
      ) : action.succeeded ? (
        <div class="banner banner-ok" role="status">
          <p>Your address is verified. Thank you.</p>
        </div>
      ) : action.problem ? (
        <>
          <ProblemBanner problem={action.problem} />
          <p>
            The link may have been used already, expired, or been replaced by a newer mail.{" "}
            {user ? "Send a new one from the banner above." : "Sign in to send a new one."}
          </p>
          <p>
            <button type="button" onClick={() => void action.run()}>
              Try again
            </button>
          </p>
        </>
      ) : null}
      <p>{onward}</p>
    </Page>
  );
}
