import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { FilterActions, OrderingSelect, offsetOf, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { useNow } from "../../ui/now";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime, relativeTime } from "../../ui/time";
import { type Mail, type MailStatus, STATUS_WORDS, STATUSES, statusReason } from "./model";

const LIMIT = 20;
const ORDERINGS = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "-updated_at", label: "Recently changed" },
  { value: "-attempts", label: "Most tries" },
];
const DEFAULT_ORDERING = "-created_at";

/** Every mail the app wrote, with its status and why: queued, sent, retried, failed, or suppressed and for what. */
export default function OutboxList() {
  const { query, search } = useLocation();
  const now = useNow();
  const status = STATUSES.find((s) => s === query.get("status")) ?? "";
  const kind = query.get("kind") ?? "";
  const ordering = query.get("ordering") ?? DEFAULT_ORDERING;
  const offset = offsetOf(query);
  const list = useLoad(search, () =>
    unwrap(
      api.GET("/api/v1/admin/outbox", {
        params: {
          query: {
            limit: LIMIT,
            offset,
            ordering,
            ...(status ? { status: status as MailStatus } : {}),
            ...(kind ? { kind } : {}),
          },
        },
      }),
    ),
  );
  const items = (list.data?.items ?? []) as Mail[];
  const [kindDraft, setKindDraft] = useState(kind);
  useEffect(() => setKindDraft(kind), [kind]);

  return (
    <Page title="Mail outbox">
      <form
        class="filters card"
        aria-label="Filter mail"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ kind: kindDraft.trim(), offset: null });
        }}
      >
        <div class="field">
          <label for="filter-status">Status</label>
          <select
            id="filter-status"
            value={status}
            onChange={(e) => setQuery({ status: e.currentTarget.value, offset: null })}
          >
            <option value="">Every status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_WORDS[s].label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-kind">Kind</label>
          <input
            id="filter-kind"
            type="search"
            maxLength={64}
            value={kindDraft}
            placeholder="e.g. product.changed"
            onInput={(e) => setKindDraft(e.currentTarget.value)}
          />
        </div>
        <OrderingSelect value={ordering} fallback={DEFAULT_ORDERING} options={ORDERINGS} />
        <FilterActions filtered={search !== ""} clearHref="/outbox" />
      </form>

      <ProblemBanner problem={list.problem} />
      <StatusLine loading={list.loading} what="mail" />
      <div class="table-wrap" aria-busy={list.loading}>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Written</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
        {!list.loading && items.length === 0 && !list.problem ? <p class="empty">No mail matches.</p> : null}
      </div>
      {list.data ? <Pager offset={offset} limit={LIMIT} total={list.data.total} label="Outbox" /> : null}
    </Page>
  );
}
