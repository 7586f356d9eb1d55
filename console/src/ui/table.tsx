import { type ComponentChildren, Fragment } from "preact";

/** A column of a Table: its heading, or the heading with `num` (figures, right-aligned) or a class of its own. */
export type Column = string | { label: ComponentChildren; num?: boolean; class?: string };

/** A table and its heading row: `columns` name the columns, `children` are the body's rows. */
export function Table({
  columns,
  caption,
  children,
}: {
  columns: Column[];
  /** What the table holds, for screen readers (the page's headings say it to the eye). */
  caption?: string;
  children: ComponentChildren;
}) {
  return (
    <table class="table">
      {caption ? <caption class="visually-hidden">{caption}</caption> : null}
      <thead>
        <tr>
          {columns.map((column, i) =>
            typeof column === "string" ? (
              <th key={i} scope="col">
                {column}
              </th>
            ) : (
              <th key={i} scope="col" class={column.num ? "num" : column.class}>
                {column.label}
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/**
 * The box of a table with nothing focusable in it (no links, no buttons), which scrolls sideways on a narrow
 * screen: a labelled region in the tab order, so the keyboard can scroll it too (axe: scrollable-region-focusable).
 */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll.
    <section class="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}

/** An account's address and whether it is verified, as a tag. */
export function VerifiedEmail({ email, verified }: { email: string; verified: boolean }) {
  return (
    <>
      {email} {verified ? <span class="tag tag-ok">verified</span> : <span class="tag tag-warn">not verified</span>}
    </>
  );
}

/** A record's facts, term and value a row; a row whose value is null or undefined is left out. */
export function Facts({ rows }: { rows: [term: string, value: ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows
        .filter(([, value]) => value !== null && value !== undefined)
        .map(([term, value]) => (
          <Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
    </dl>
  );
}
