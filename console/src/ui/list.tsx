import type { ComponentChildren } from "preact";
import { Link, setQuery } from "../router";

/** A list's offset from its query string (`offset=`), never negative and 0 when absent or not a number. */
export const offsetOf = (query: URLSearchParams) => Math.max(0, Number.parseInt(query.get("offset") ?? "0", 10) || 0);

/**
 * The list URL a person last looked at, so "back to the list" keeps their filters: `remember` on each list render,
 * `url` on the record pages.
 */
export function listMemory(initial: string) {
  let last = initial;
  return {
    remember: (url: string) => {
      last = url;
    },
    url: () => last,
  };
}

/**
 * The "Order" select of a list filter: writes `ordering` to the query string (left out when it is the default) and
 * goes back to the first page.
 */
export function OrderingSelect({
  value,
  fallback,
  options,
}: {
  value: string;
  fallback: string;
  options: readonly { value: string; label: string }[];
}) {
  return (
    <div class="field">
      <label for="filter-ordering">Order</label>
      <select
        id="filter-ordering"
        value={value}
        onChange={(e) =>
          setQuery({ ordering: e.currentTarget.value === fallback ? null : e.currentTarget.value, offset: null })
        }
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A filter form's buttons: search, and "Clear" back to the bare list while any filter is set. */
export function FilterActions({ filtered, clearHref }: { filtered: boolean; clearHref: string }) {
  return (
    <div class="filter-actions">
      <button type="submit">Search</button>
      {filtered ? (
        <Link class="button" href={clearHref}>
          Clear
        </Link>
      ) : null}
    </div>
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
