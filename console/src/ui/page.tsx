import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { handFocusOn, takeFocusPending } from "../router";

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
  // A layout effect: its cleanup runs while the heading is still in the document (a plain effect's cleanup runs after
  // the next paint, when the heading is gone and the focus has already dropped to the body).
  useLayoutEffect(() => {
    const element = heading.current;
    return () => {
      if (element && element === document.activeElement) handFocusOn();
    };
  }, []);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
