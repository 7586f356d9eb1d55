import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { FilterActions, OrderingSelect, offsetOf, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime } from "../../ui/time";
import { type ManagedUser, ORDERINGS, userList } from "./model";

const ROLES = [
  { value: "", label: "Every role" },
  { value: "member", label: "Members" },
  { value: "admin", label: "Admins" },
  { value: "superuser", label: "The superuser" },
] as const;
const DEFAULT_ORDERING = "-created_at";
const LIMIT = 20;

/** Every live account: search by email or username, filter by role, order and page; all in the query string. */
export default function UserList() {
  const { query, path, search } = useLocation();
  const text = query.get("search") ?? "";
  const role = ROLES.find((r) => r.value === query.get("role"))?.value ?? "";
  const ordering = query.get("ordering") ?? DEFAULT_ORDERING;
  const offset = offsetOf(query);
  useEffect(() => userList.remember(`${path}${search}`), [path, search]);
  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/users", {
        params: {
          query: {
            limit: LIMIT,
            offset,
            ordering,
            ...(text ? { search: text } : {}),
            ...(role ? { role } : {}),
          },
        },
      }),
    ),
  );
  const items = (list.data?.items ?? []) as ManagedUser[];
  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);

  return (
    <Page
      title="Users"
      actions={
        <Link class="button primary" href="/users/new">
          New user
        </Link>
      }
    >
      <form
        class="filters card"
        aria-label="Filter users"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ search: draft.trim(), offset: null });
        }}
      >
        <div class="field">
          <label for="filter-search">Email or username contains</label>
          <input
            id="filter-search"
            type="search"
            maxLength={100}
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-role">Role</label>
          <select
            id="filter-role"
            value={role}
            onChange={(e) => setQuery({ role: e.currentTarget.value, offset: null })}
          >
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <OrderingSelect value={ordering} fallback={DEFAULT_ORDERING} options={ORDERINGS} />
        <FilterActions filtered={search !== ""} clearHref="/users" />
      </form>

      <ProblemBanner problem={list.problem} />
      <StatusLine loading={list.loading} what="users" />
      <div class="table-wrap" aria-busy={list.loading}>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {items.map((u) => (
              <tr key={u.id}>
                <td>
                  <Link href={`/users/${u.id}`}>{u.username}</Link>
                </td>
                <td>
                  {u.email} {u.email_verified ? null : <span class="tag tag-warn">not verified</span>}
                </td>
                <td>
                  <span class={`tag tag-role-${u.role}`}>{u.role}</span>
                </td>
                <td>
                  <time dateTime={u.created_at}>{absoluteTime(u.created_at)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!list.loading && items.length === 0 && !list.problem ? <p class="empty">No users match.</p> : null}
      </div>
      {list.data ? <Pager offset={offset} limit={LIMIT} total={list.data.total} label="User list" /> : null}
    </Page>
  );
}
