import type { ComponentChildren } from "preact";

/** A spinner and what is under way ("Loading the task…") as the page's status. */
export function Loading({ children }: { children: ComponentChildren }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {children}
    </p>
  );
}
