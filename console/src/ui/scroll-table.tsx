import type { ComponentChildren } from "preact";

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
