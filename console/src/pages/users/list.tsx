import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link } from "../../router";
import { FilterForm, ListResults, QuerySelect, TextFilter, useListQuery, useTypedFilters } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { Table } from "../../ui/table";
import { absoluteTime } from "../../ui/time";
import { type ManagedUser, ORDERINGS, userList } from "./model";

const ROLES = [
  { value: "", label: "Every role" },
  { value: "member", label: "Members" },
  { value: "admin", label: "Admins" },
  { value: "superuser", label: "The superuser" },
] as const;

/** Every live account: search by email or username, filter by role, order and page; all in the query string. */
export default function UserList() {
  const view = useListQuery({ memory: userList, orderings: ORDERINGS });
  const { query, search, ordering, limit, offset } = view;
  const text = query.get("search") ?? "";
  const role = ROLES.find((r) => r.value === query.get("role"))?.value ?? "";
  const typed = useTypedFilters({ search: text });
  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/users", {
        params: { query: { limit, offset, ordering, ...(text ? { search: text } : {}), ...(role ? { role } : {}) } },
      }),
    ),
  );
  const items = (list.data?.items ?? []) as ManagedUser[];

  return (
    <Page
      title="Users"
      actions={
        <Link class="button primary" href="/users/new">
          New user
        </Link>
      }
    >
      <FilterForm label="Filter users" filters={typed} view={view}>
        <TextFilter filters={typed} name="search" label="Email or username contains" maxLength={100} />
        <QuerySelect label="Role" param="role" value={role} fallback="" options={ROLES} />
      </FilterForm>

      <ListResults list={list} view={view} noun="users" label="User list">
        <Table columns={["Username", "Email", "Role", "Since"]}>
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
        </Table>
      </ListResults>
    </Page>
  );
}
