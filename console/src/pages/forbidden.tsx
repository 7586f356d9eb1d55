import { Link, useLocation } from "../router";
import { useSession } from "../session";
import { Page } from "../ui/page";

/**
 * The 403 page: which role the page needs and which one you have. Shown in place when a member opens an admin URL
 * (the address stays, so it can be passed on to an admin), and at /forbidden?role=admin.
 */
export function Forbidden({ role }: { role?: string }) {
  const { user } = useSession();
  const { query } = useLocation();
  const needed = role ?? query.get("role") ?? "admin";
  return (
    <Page title="Not allowed">
      <p class="lede">
        This page needs the <strong>{needed}</strong> role.{" "}
        {user ? (
          <>
            You are signed in as <strong>{user.username}</strong>, {user.role === "admin" ? "an" : "a"}{" "}
            <strong>{user.role}</strong>.
          </>
        ) : (
          <>You are not signed in.</>
        )}
      </p>
      <p>Ask an admin to change your role if you need it, or go back to your work.</p>
      <p>
        <Link href={user ? "/tasks" : "/sign-in"}>{user ? "Go to the tasks" : "Sign in"}</Link>
      </p>
    </Page>
  );
}

export default function ForbiddenPage() {
  return <Forbidden />;
}
