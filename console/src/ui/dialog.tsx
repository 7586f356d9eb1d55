import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

type ConfirmProps = {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmText: string;
  busy?: boolean;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
};

/**
 * A modal confirmation on the native <dialog>: showModal() makes the rest of the page inert (focus stays inside,
 * Escape cancels), the safe choice has the focus first, and the focus goes back to what opened it on close.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmText,
  busy = false,
  danger = false,
  onConfirm,
  onCancel,
}: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      opener.current = document.activeElement;
      element.showModal();
      cancel.current?.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    const restore = () => {
      const target = opener.current;
      opener.current = null;
      // What opened it may be gone (the bulk bar after a bulk action): the page's heading takes the focus then.
      if (target instanceof HTMLElement && target.isConnected) target.focus();
      else document.querySelector<HTMLElement>("main h1")?.focus();
    };
    const onCancelEvent = (event: Event) => {
      event.preventDefault();
      if (!busy) onCancel();
    };
    element.addEventListener("close", restore);
    element.addEventListener("cancel", onCancelEvent);
    return () => {
      element.removeEventListener("close", restore);
      element.removeEventListener("cancel", onCancelEvent);
    };
  }, [busy, onCancel]);
  const titleId = `${title.replace(/\W+/g, "-").toLowerCase()}-title`;
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {children}
      <div class="dialog-actions">
        <button type="button" ref={cancel} onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          class={danger ? "danger" : "primary"}
          onClick={onConfirm}
          aria-busy={busy}
          aria-disabled={busy}
        >
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {confirmText}
        </button>
      </div>
    </dialog>
  );
}
