import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { Problem } from "../api/problem";
import { ActionButton } from "./button";
import { ProblemBanner } from "./problem-banner";

/** The action a confirmation runs (a useAction): its progress shows on the button, its problem inside the dialog. */
type ConfirmedAction = {
  run: (...args: never[]) => unknown;
  busy: boolean;
  problem: Problem | null;
  setProblem: (p: null) => void;
};

type ConfirmProps = {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmText: string;
  danger?: boolean;
  action: ConfirmedAction;
  /** Replaces `action.run()` (an action that takes an argument). */
  onConfirm?: () => void;
  /** Closes the dialog (the action's problem is cleared with it). The action closes it too when it went through. */
  onClose: () => void;
  /** The page's own account of the problem's details (which records a bulk action refused). */
  problemDetails?: ComponentChildren;
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
  danger = false,
  action,
  onConfirm = () => void action.run(),
  onClose,
  problemDetails,
}: ConfirmProps) {
  const { busy } = action;
  const onCancel = () => {
    onClose();
    action.setProblem(null);
  };
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
  }, [busy, onClose]);
  const titleId = `${title.replace(/\W+/g, "-").toLowerCase()}-title`;
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {children}
      <ProblemBanner problem={action.problem}>{problemDetails}</ProblemBanner>
      <div class="dialog-actions">
        <button type="button" ref={cancel} onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <ActionButton class={danger ? "danger" : "primary"} busy={busy} onClick={onConfirm}>
          {confirmText}
        </ActionButton>
      </div>
    </dialog>
  );
}
