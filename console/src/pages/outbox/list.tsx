import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link } from "../../router";
import { FilterForm, ListResults, QuerySelect, TextFilter, useListQuery, useTypedFilters } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Table } from "../../ui/table";
import { absoluteTime, relativeTime } from "../../ui/time";
import { type Mail, ORDERINGS, outboxList, STATUS_WORDS, STATUSES, statusReason } from "./model";

const STATUS_OPTIONS = [
  { value: "", label: "Every status" },
  ...STATUSES.map((s) => ({ value: s, label: STATUS_WORDS[s].label })),
];

/** Every mail the app wrote, with its status and why: queued, sent, retried, failed, or suppressed and for what. */
export default function OutboxList() {
  const view = useListQuery({ memory: outboxList, orderings: ORDERINGS });
  const { query, search, ordering, limit, offset } = view;
  const now = useNow();
  const status = STATUSES.find((s) => s === query.get("status"));
  const kind = query.get("kind") ?? "";
  const typed = useTypedFilters({ kind });
  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/admin/outbox", {
        params: { query: { limit, offset, ordering, ...(status ? { status } : {}), ...(kind ? { kind } : {}) } },
      }),
    ),
  );
  const items = (list.data?.items ?? []) as Mail[];

  return (
    <Page title="Mail outbox">
      <FilterForm label="Filter mail" filters={typed} view={view}>
        <QuerySelect label="Status" param="status" value={status ?? ""} fallback="" options={STATUS_OPTIONS} />
        <TextFilter filters={typed} name="kind" label="Kind" maxLength={64} placeholder="e.g. product.changed" />
      </FilterForm>

      <ListResults list={list} view={view} noun="mails" label="Outbox">
        <Table columns={["Written", "To", "Subject", "Status"]}>
          {items.map((mail) => (
            <tr key={mail.id}>
              <td>
                <time dateTime={mail.created_at} title={absoluteTime(mail.created_at)}>
                  {relativeTime(mail.created_at, now)}
                </time>
              </td>
              <td>{mail.recipient_email}</td>
              <td>
                <Link href={`/outbox/${mail.id}`}>{mail.subject}</Link>
                <div class="muted small">{mail.kind}</div>
              </td>
              <td>
                <span class={`tag tag-${STATUS_WORDS[mail.status].tone}`}>{STATUS_WORDS[mail.status].label}</span>
                <div class="small">{statusReason(mail)}</div>
              </td>
            </tr>
          ))}
        </Table>
      </ListResults>
    </Page>
  );
}
