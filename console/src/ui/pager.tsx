import { Link } from "../router";

/** "21–40 of 57" with previous and next links that keep every other query parameter. */
export function Pager({
  offset,
  limit,
  total,
  label,
}: {
  offset: number;
  limit: number;
  total: number;
  label: string;
}) {
  const href = (to: number) => {
    const query = new URLSearchParams(window.location.search);
    if (to > 0) query.set("offset", String(to));
    else query.delete("offset");
    const search = query.toString();
    return `${window.location.pathname}${search ? `?${search}` : ""}`;
  };
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <span>
        {first}–{last} of {total}
      </span>
      {offset > 0 ? <Link href={href(Math.max(0, offset - limit))}>Previous page</Link> : null}
      {offset + limit < total ? <Link href={href(offset + limit)}>Next page</Link> : null}
    </nav>
  );
}
