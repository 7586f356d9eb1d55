import type { ComponentChildren, ComponentType } from "preact";
import { useEffect } from "preact/hooks";
import { api } from "./api/client";
import { problemText, unwrap } from "./api/problem";
import { refreshUnread, unreadStore } from "./notifications-count";
import { Forbidden } from "./pages/forbidden";
import { NotFound } from "./pages/not-found";
import { Link, navigate, safeNext, useLocation } from "./router";
import { NAV, ROUTES } from "./routes";
import { hasRole, type Session, signedOut, useSession } from "./session";
import { useStore } from "./store";
import { useAction } from "./ui/action";
import { ActionButton } from "./ui/button";
import { Loading } from "./ui/loading";

type Decision = { redirect: string } | { page: ComponentType } | { forbidden: "admin" | "member" } | { missing: true };

/** What the current location shows for this session: a page, a redirect, the 403 page or the 404 page. */
function decide(session: Session, location: ReturnType<typeof useLocation>): Decision {
  if (!location.route) return { missing: true };
  const here = `${location.path}${location.search}`;
  const user = session.user;
  if (location.route === "/") return { redirect: user ? "/tasks" : "/sign-in" };
  const { page, access } = ROUTES[location.route];
  if (access === "public") return { page };
  if (access === "anonymous") return user ? { redirect: safeNext(location.query.get("next")) ?? "/tasks" } : { page };
  if (!user) return { redirect: `/sign-in?next=${encodeURIComponent(here)}` };
  if (!hasRole(user, access)) return { forbidden: access === "superuser" ? "admin" : access };
  return { page };
}

export function App() {
  const session = useSession();
  const location = useLocation();
  const decision = session.status === "loading" ? null : decide(session, location);
  const redirect = decision && "redirect" in decision ? decision.redirect : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);
  const signedIn = session.status === "signed-in";
  // The unread count follows the person around: read again on every page change while signed in.
  useEffect(() => {
    if (signedIn) void refreshUnread();
    else unreadStore.set(null);
  }, [signedIn, location.path]);

  let content: ComponentChildren;
  if (!decision || redirect) {
    content = <Loading>Loading…</Loading>;
  } else if ("missing" in decision) content = <NotFound />;
  else if ("forbidden" in decision) content = <Forbidden role={decision.forbidden} />;
  else if ("page" in decision) {
    const PageComponent = decision.page;
    content = <PageComponent />;
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header session={session} path={location.path} />
      {session.status === "signed-in" && !session.user.email_verified ? (
        <UnverifiedBanner email={session.user.email} />
      ) : null}
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </>
  );
}

function Header({ session, path }: { session: Session; path: string }) {
  const unread = useStore(unreadStore);
  const signOut = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/auth/session"));
    signedOut();
    navigate("/sign-in");
  });
  const user = session.user;
  return (
    <header class="top">
      <Link class="brand" href="/">
        <span class="logo" aria-hidden="true" />
        edge-backoffice
      </Link>
      {user ? (
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => hasRole(user, item.role)).map((item) => (
              <li key={item.href}>
                <Link
                  href={item.href}
                  aria-current={path === item.href || path.startsWith(`${item.href}/`) ? "page" : undefined}
                >
                  {item.label}
                  {item.href === "/notifications" && unread ? (
                    <span class="badge">
                      {unread}
                      <span class="visually-hidden"> unread</span>
                    </span>
                  ) : null}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      {user ? (
        <div class="who">
          <Link href="/account" aria-current={path === "/account" ? "page" : undefined}>
            {user.username}
            <span class="muted small"> ({user.role})</span>
          </Link>
          <ActionButton class="link" busy={signOut.busy} busyText="Signing out…" onClick={() => void signOut.run()}>
            Sign out
          </ActionButton>
          {signOut.problem ? (
            <span role="alert" class="field-error">
              {problemText(signOut.problem)}
            </span>
          ) : null}
        </div>
      ) : null}
    </header>
  );
}

function UnverifiedBanner({ email }: { email: string }) {
  const resend = useAction(() => unwrap(api.POST("/api/v1/auth/verify-email/resend")));
  return (
    <section class="banner banner-warn" aria-label="Email address not verified">
      <div class="banner-inner">
        <p>
          Your address <strong>{email}</strong> is not verified yet: open the link in the mail we sent. Until then only
          account mail goes to it.
        </p>
        <ActionButton busy={resend.busy} busyText="Sending…" onClick={() => void resend.run()}>
          Send again
        </ActionButton>
        <p role="status" class="small">
          {resend.succeeded
            ? "Sent. Use the link in the newest mail: it replaces the earlier ones."
            : resend.problem
              ? problemText(resend.problem)
              : ""}
        </p>
      </div>
    </section>
  );
}
