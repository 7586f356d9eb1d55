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

type TextFieldProps = {
  label: string;
  name: string;
  problem: Problem | null;
  value: string;
  onValue: (value: string) => void;
  hint?: ComponentChildren;
};

/** An email address field (the account's sign-in name, so password managers pair it with the password). */
export function EmailField({
  autoComplete = "username",
  ...props
}: TextFieldProps & { autoComplete?: "username" | "email" }) {
  return (
    <Field label={props.label} name={props.name} problem={props.problem} hint={props.hint}>
      {(wiring) => (
        <input
          {...wiring}
          type="email"
          autoComplete={autoComplete}
          required
          value={props.value}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** A password field: the current one, or a new one with the API's length rule as its hint and limits. */
export function PasswordField({ fresh = false, ...props }: TextFieldProps & { fresh?: boolean }) {
  return (
    <Field
      label={props.label}
      name={props.name}
      problem={props.problem}
      hint={props.hint ?? (fresh ? "8 to 128 characters, not your email or username." : undefined)}
    >
      {(wiring) => (
        <input
          {...wiring}
          type="password"
          autoComplete={fresh ? "new-password" : "current-password"}
          required
          minLength={fresh ? 8 : undefined}
          maxLength={fresh ? 128 : undefined}
          value={props.value}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** A form that runs its action on submit (Enter in a field included) instead of navigating. */
export function ActionForm({
  onRun,
  children,
  ...rest
}: {
  onRun: () => unknown;
  children: ComponentChildren;
  class?: string;
  noValidate?: boolean;
  "aria-label"?: string;
}) {
  return (
    <form
      {...rest}
      onSubmit={(event) => {
        event.preventDefault();
        void onRun();
      }}
    >
      {children}
    </form>
  );
}
