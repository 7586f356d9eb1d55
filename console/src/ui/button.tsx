import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

/**
 * A button that shows its action's progress and its limits: while `busy` a spinner and `busyText` (a press meanwhile
 * does nothing); while it may not be used (`reason`), it stays focusable (aria-disabled, not disabled, so the keyboard
 * and a screen reader still reach it) and says why beside it.
 */
export function ActionButton({
  busy = false,
  busyText,
  reason = null,
  type = "button",
  class: className,
  onClick,
  children,
}: {
  busy?: boolean;
  busyText?: string;
  reason?: string | null;
  type?: "button" | "submit";
  class?: string;
  onClick?: () => void;
  children: ComponentChildren;
}) {
  const id = useId();
  return (
    <>
      <button
        type={type}
        class={className}
        aria-disabled={busy || Boolean(reason)}
        aria-busy={busy}
        aria-describedby={reason ? `${id}-why` : undefined}
        onClick={(event) => {
          // A submit button that may not be used does not submit either.
          if (busy || reason) event.preventDefault();
          else onClick?.();
        }}
      >
        {busy ? <span class="spinner" aria-hidden="true" /> : null}
        {busy && busyText ? busyText : children}
      </button>
      {reason ? (
        <p class="hint why" id={`${id}-why`}>
          {reason}
        </p>
      ) : null}
    </>
  );
}
