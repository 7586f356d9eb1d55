import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { handFocusOn, takeFocusPending } from "../router";

/**
 * A heading that loses the focus because it left the document (a record's "Loading…" frame replaced by its form)
 * hands the focus on to the next page heading, instead of dropping it to the body. The renderer may remove the old
 * heading before or after the replaced page's effects are cleaned up, so this watches the blur itself.
 */
function handOnWhenRemoved(event: FocusEvent) {
  const element = event.currentTarget as Element;
  queueMicrotask(() => {
    if (!element.isConnected) handFocusOn();
  });
}

/**
 * A page's frame: its <h1> (which takes the focus after a navigation, so keyboard and screen-reader users start at
 * the new page, not at the link they left) and the document title.
 */
export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · edge-backoffice`;
    if (takeFocusPending()) heading.current?.focus();
  }, [title]);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1} ref={heading} onBlur={handOnWhenRemoved}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
