import { Link } from "../router";

/** This page's URL with `param` (the list's offset) set to `offset`, every other query parameter kept. */
export function pageHref(offset: number, param = "offset") {
  const query = new URLSearchParams(window.location.search);
  if (offset > 0) query.set(param, String(offset));
  else query.delete(param);
  const search = query.toString();
  return `${window.location.pathname}${search ? `?${search}` : ""}`;
}

/**
 * "21–40 of 57" with previous and next links that keep every other query parameter; nothing while there is nothing
 * to page. `param` names the offset in the query string when a page holds more than one paged list.
 */
export function Pager({
  offset,
  limit,
  total,
  label,
  param = "offset",
  previous = "Previous page",
  next = "Next page",
}: {
  offset: number;
  limit: number;
  total: number;
  label: string;
  param?: string;
  previous?: string;
  next?: string;
}) {
  if (total === 0) return null;
  const first = Math.min(offset + 1, total);
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <span>
        {first}–{last} of {total}
      </span>
      {offset > 0 ? <Link href={pageHref(Math.max(0, offset - limit), param)}>{previous}</Link> : null}
      {offset + limit < total ? <Link href={pageHref(offset + limit, param)}>{next}</Link> : null}
    </nav>
  );
}
