import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Problem } from "../api/problem";
import { Link, setQuery, useLocation } from "../router";
import { ActionButton } from "./button";
import { Field, type Option } from "./field";
import { Pager, pageHref } from "./pager";
import { ProblemBanner } from "./problem-banner";

/**
 * The pieces every list page is made of. A list keeps its whole state in the query string (filters, `ordering`,
 * `limit`, `offset`), so a reload, back and forward and a shared link all show the same list; the record pages link
 * back to the list as the person last saw it.
 */

/** The first orderings of every list of dated records; a list adds its own after these. */
export const BY_AGE = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
] as const satisfies readonly Option[];
export const RECENTLY_CHANGED = { value: "-updated_at", label: "Recently changed" } as const satisfies Option;

/** The page sizes a list offers (the API takes at most 100); the first is the default. */
export const PAGE_SIZES = ["20", "50", "100"] as const;

/** A list's offset from its query string (`offset=`, or another key), never negative and 0 when absent or not a number. */
export const offsetOf = (query: URLSearchParams, key = "offset") =>
  Math.max(0, Number.parseInt(query.get(key) ?? "0", 10) || 0);

/**
 * A list's bare path (`home`), the URL a person last looked at it with, and the words for it: "Back to {label}" keeps
 * their filters.
 */
export type ListMemory = { home: string; remember: (url: string) => void; url: () => string; label: string };

export function listMemory(home: string, label: string): ListMemory {
  let last = home;
  return {
    home,
    remember: (url: string) => {
      last = url;
    },
    url: () => last,
    label,
  };
}

/** "Back to the tasks": the link to the list as it was last seen, filters and page included. */
export function BackLink({ to }: { to: ListMemory }) {
  return (
    <p>
      <Link href={to.url()}>Back to {to.label}</Link>
    </p>
  );
}

/**
 * A list page's state from the query string: the ordering (one of `orderings`, the first by default), the page size
 * (one of PAGE_SIZES), the offset, and whether any filter is set; the URL is remembered in `memory` for the record
 * pages' way back.
 */
export function useListQuery({ memory, orderings }: { memory: ListMemory; orderings?: readonly Option[] }) {
  const { query, path, search } = useLocation();
  useEffect(() => memory.remember(`${path}${search}`), [path, search]);
  const ordering = orderings?.find((o) => o.value === query.get("ordering"))?.value ?? orderings?.[0]?.value;
  const size = PAGE_SIZES.find((s) => s === query.get("limit")) ?? PAGE_SIZES[0];
  return {
    query,
    search,
    ordering,
    orderings,
    limit: Number(size),
    offset: offsetOf(query),
    /** A filter narrows the list (the ordering, page size and page do not). */
    filtered: [...query.keys()].some((key) => !["ordering", "limit", "offset"].includes(key)),
    /** The bare list, for "Clear". */
    home: memory.home,
  };
}

export type ListQuery = ReturnType<typeof useListQuery>;

/**
 * A select that writes its choice to the query string at once (left out when it is `fallback`) and goes back to the
 * first page. `replace` for a view setting that should not be a history entry of its own (a chart's range).
 */
export function QuerySelect({
  label,
  param,
  value,
  fallback,
  options,
  replace = false,
  inline = false,
}: {
  label: string;
  param: string;
  value: string;
  fallback: string;
  options: readonly Option[];
  replace?: boolean;
  inline?: boolean;
}) {
  return (
    <Field label={label} name={param} inline={inline}>
      {(wiring) => (
        <select
          {...wiring}
          value={value}
          onChange={(e) =>
            setQuery(
              { [param]: e.currentTarget.value === fallback ? null : e.currentTarget.value, offset: null },
              { replace },
            )
          }
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * The typed filters of a list (search boxes, dates), by their query parameter: what is typed stays a draft until the
 * form is sent, then goes to the query string (trimmed) on the first page. Back and forward bring the drafts along.
 */
export function useTypedFilters<K extends string>(applied: Record<K, string>) {
  const [draft, setDraft] = useState(applied);
  const key = JSON.stringify(applied);
  useEffect(() => setDraft(applied), [key]);
  return {
    draft,
    edit: (name: K, value: string) => setDraft((current) => ({ ...current, [name]: value })),
    apply: () =>
      setQuery({
        ...Object.fromEntries(Object.entries<string>(draft).map(([name, value]) => [name, value.trim()])),
        offset: null,
      }),
  };
}

export type TypedFilters<K extends string = string> = ReturnType<typeof useTypedFilters<K>>;

/** One typed filter: a labelled search box (or another `type`), bound to its query parameter's draft. */
export function TextFilter<K extends string>({
  filters,
  name,
  label,
  hint,
  type = "search",
  maxLength,
  placeholder,
  max,
  inputMode,
}: {
  filters: TypedFilters<K>;
  name: K;
  label: string;
  hint?: string;
  type?: "search" | "text" | "date";
  maxLength?: number;
  placeholder?: string;
  max?: string;
  inputMode?: "decimal";
}) {
  return (
    <Field label={label} name={name} hint={hint}>
      {(wiring) => (
        <input
          {...wiring}
          // Preact types each input `type` apart; these attributes suit every type offered here.
          type={type as "search"}
          maxLength={maxLength}
          placeholder={placeholder}
          max={max}
          inputMode={inputMode}
          value={filters.draft[name]}
          onInput={(e) => filters.edit(name, e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/**
 * A list's filter form: the typed filters apply when it is sent (Enter in a field, or the button); selects and
 * checkboxes inside apply at once. For a list (`view`) it ends with the list's "Order" and "Per page" selects, and
 * "Clear" back to the bare list while anything is set.
 */
export function FilterForm({
  label,
  filters,
  view,
  submitText = "Search",
  children,
}: {
  label: string;
  filters: { apply: () => void };
  view?: ListQuery;
  submitText?: string;
  children: ComponentChildren;
}) {
  const orderings = view?.orderings;
  return (
    <form
      class="filters card"
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault();
        filters.apply();
      }}
    >
      {children}
      {view && orderings?.[0] ? (
        <QuerySelect
          label="Order"
          param="ordering"
          value={view.ordering ?? orderings[0].value}
          fallback={orderings[0].value}
          options={orderings}
        />
      ) : null}
      {view ? (
        <QuerySelect
          label="Per page"
          param="limit"
          value={String(view.limit)}
          fallback={PAGE_SIZES[0]}
          options={PAGE_SIZES.map((size) => ({ value: size, label: size }))}
        />
      ) : null}
      <div class="filter-actions">
        <button type="submit">{submitText}</button>
        {view?.search ? (
          <Link class="button" href={view.home}>
            Clear
          </Link>
        ) : null}
      </div>
    </form>
  );
}

/** The page's status line: a spinner and what is loading while it loads, else `done` (or nothing). */
export function StatusLine({ loading, what, done }: { loading: boolean; what: string; done?: ComponentChildren }) {
  return (
    <p role="status" class="status-line">
      {loading ? (
        <>
          <span class="spinner" aria-hidden="true" />
          Loading {what}…
        </>
      ) : (
        (done ?? null)
      )}
    </p>
  );
}

type LoadedPage = {
  data?: { items: unknown[]; total: number };
  loading: boolean;
  problem: Problem | null;
  reload: () => unknown;
};

/**
 * The results of a paged list (`list`, its useLoad; `view`, its useListQuery): the problem in words, the status line
 * (loading, or `done`), a `toolbar` that acts on the rows (a bulk bar), the table in its box (busy while the next
 * page loads; it scrolls sideways on a narrow screen), a sentence when nothing is there, and the pager.
 */
export function ListResults({
  list,
  view,
  noun,
  label,
  done,
  toolbar,
  children,
}: {
  list: LoadedPage;
  view: ListQuery;
  /** What the rows are, in the plural ("tasks"). */
  noun: string;
  /** The pager's name ("Task list" → "Task list pages"). */
  label: string;
  done?: ComponentChildren;
  toolbar?: ComponentChildren;
  children: ComponentChildren;
}) {
  const total = list.data?.total ?? 0;
  const empty = !list.loading && !list.problem && list.data?.items.length === 0;
  return (
    <>
      <ProblemBanner problem={list.problem} retry={list.reload} />
      <StatusLine loading={list.loading} what={noun} done={done} />
      {toolbar}
      <div class="table-wrap" aria-busy={list.loading}>
        {children}
        {empty ? (
          <p class="empty">
            {total > 0 ? (
              <>
                Nothing on this page. <Link href={pageHref(0)}>Go to the first page</Link>
              </>
            ) : view.filtered ? (
              <>
                No {noun} match these filters. <Link href={view.home}>Clear the filters</Link>
              </>
            ) : (
              `No ${noun} yet.`
            )}
          </p>
        ) : null}
      </div>
      <Pager offset={view.offset} limit={view.limit} total={total} label={label} />
    </>
  );
}

/** A "Refresh" button for what a page reads again on its own too: it shows progress only when pressed. */
export function RefreshButton({ busy, onClick }: { busy: boolean; onClick: () => void }) {
  return (
    <ActionButton busy={busy} busyText="Refreshing…" onClick={onClick}>
      Refresh
    </ActionButton>
  );
}
