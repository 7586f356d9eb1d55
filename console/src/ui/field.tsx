import type { ComponentChildren, JSX } from "preact";
import { useId } from "preact/hooks";
import { ApiProblem, type Problem } from "../api/problem";

type FieldProps = {
  label: string;
  /** The API's name for this field: its problems (`errors[].path`) are shown here. */
  name: string;
  problem?: Problem | null;
  hint?: ComponentChildren;
  children: (props: {
    id: string;
    name: string;
    "aria-invalid": boolean;
    "aria-describedby": string | undefined;
  }) => JSX.Element;
};

/** A labelled control with its hint and the server's message for it, wired for screen readers. */
export function Field({ label, name, problem, hint, children }: FieldProps) {
  const id = useId();
  const message = problem instanceof ApiProblem ? problem.fieldMessage(name) : undefined;
  const described = [hint ? `${id}-hint` : null, message ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div class={`field${message ? " field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children({ id, name, "aria-invalid": Boolean(message), "aria-describedby": described || undefined })}
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {message ? (
        <p class="field-error" id={`${id}-error`}>
          {message}
        </p>
      ) : null}
    </div>
  );
}

/** A submit button that says it is working, and cannot be pressed twice meanwhile. */
export function Submit({
  busy,
  children,
  busyText,
  class: className,
}: {
  busy: boolean;
  children: ComponentChildren;
  busyText: string;
  class?: string;
}) {
  return (
    <button type="submit" class={className ?? "primary"} aria-disabled={busy} aria-busy={busy}>
      {busy ? (
        <>
          <span class="spinner" aria-hidden="true" />
          {busyText}
        </>
      ) : (
        children
      )}
    </button>
  );
}
