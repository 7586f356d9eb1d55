import { type ComponentChildren, createContext, type JSX } from "preact";
import { useContext, useId, useRef, useState } from "preact/hooks";
import { fieldMessage } from "../api/field-words";
import { ApiProblem, type Problem } from "../api/problem";
import { ActionButton } from "./button";
import { ProblemBanner } from "./problem-banner";

/** What a form's fields share: the action's problem (shown at each field), whether it runs, the fields' names. */
type FormState = { problem: Problem | null; busy: boolean; fields: Set<string> };
const FormContext = createContext<FormState | null>(null);

type Wiring = {
  id: string;
  name: string;
  "aria-invalid": boolean;
  "aria-describedby": string | undefined;
};

type FieldProps = {
  label: string;
  /** The API's name for this field: its problems (`errors[].path`) are shown here. */
  name: string;
  /** The failed call whose problems to show; inside an <ActionForm>, its action's by default. */
  problem?: Problem | null;
  hint?: ComponentChildren;
  /** A message from the page itself (a check made before anything is sent), shown like the server's. */
  error?: string;
  /** The id of another element that explains the control too (one reason shown for several fields). */
  describedBy?: string;
  /** Label and control on one line (a small select in a section's heading). */
  inline?: boolean;
  children: (wiring: Wiring) => JSX.Element;
};

/** A labelled control with its hint and the server's message for it, wired for screen readers. */
export function Field({ label, name, problem, hint, error, describedBy, inline = false, children }: FieldProps) {
  const id = useId();
  const form = useContext(FormContext);
  form?.fields.add(name);
  const shown = problem === undefined ? form?.problem : problem;
  const message = error ?? (shown instanceof ApiProblem ? fieldMessage(shown, name) : undefined);
  const described = [describedBy, hint ? `${id}-hint` : null, message ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div class={`field${inline ? " inline" : ""}${message ? " field-invalid" : ""}`}>
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

/** A text control bound to one value of a draft (see useDraft): its name, value and how it changes. */
export type Bound = { name: string; value: string; onValue: (value: string) => void };

type TextFieldProps = Bound &
  Omit<FieldProps, "children" | "name" | "inline"> & {
    type?: "text" | "email" | "password" | "search" | "date" | "datetime-local";
    /** A multi-line text of this many rows. */
    rows?: number;
    required?: boolean;
    minLength?: number;
    maxLength?: number;
    disabled?: boolean;
    autoComplete?: string;
    inputMode?: "decimal" | "numeric" | "email";
    max?: string;
    placeholder?: string;
  };

/** A labelled text input (or, with `rows`, a textarea) for one value of a form's draft. */
export function TextField({
  label,
  name,
  problem,
  hint,
  error,
  describedBy,
  value,
  onValue,
  rows,
  ...input
}: TextFieldProps) {
  const onInput = (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
    onValue(event.currentTarget.value);
  return (
    <Field label={label} name={name} problem={problem} hint={hint} error={error} describedBy={describedBy}>
      {(wiring) =>
        rows ? (
          <textarea
            {...wiring}
            rows={rows}
            required={input.required}
            maxLength={input.maxLength}
            disabled={input.disabled}
            value={value}
            onInput={onInput}
          />
        ) : (
          // Preact types each input `type` apart; these attributes suit every type offered here.
          <input {...wiring} {...input} type={input.type as "text"} value={value} onInput={onInput} />
        )
      }
    </Field>
  );
}

/** One choice of a select: what is sent, what is shown, and whether it may be chosen. */
export type Option = { value: string; label: string; disabled?: boolean };

/** A labelled select for one value of a form's draft. */
export function SelectField({
  label,
  name,
  problem,
  hint,
  describedBy,
  value,
  onValue,
  options,
  disabled,
}: Bound &
  Omit<FieldProps, "children" | "name" | "inline" | "error"> & { options: readonly Option[]; disabled?: boolean }) {
  return (
    <Field label={label} name={name} problem={problem} hint={hint} describedBy={describedBy}>
      {(wiring) => (
        <select {...wiring} value={value} disabled={disabled} onChange={(e) => onValue(e.currentTarget.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value} disabled={o.disabled}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** An email address field (the account's sign-in name, so password managers pair it with the password). */
export function EmailField({ autoComplete = "username", ...props }: Omit<TextFieldProps, "type">) {
  return <TextField {...props} type="email" autoComplete={autoComplete} required />;
}

/** The API's username rule (src/auth/accounts.ts USERNAME_PATTERN; stored lower-case) in words. */
const USERNAME_RULE = "3 to 30 letters, digits, '_', '.' or '-', starting with a letter or digit.";

/**
 * A username field with the API's rule as its hint: required, or `optional` (sign-up, where the API makes one from
 * the email when it is left empty).
 */
export function UsernameField({
  optional = false,
  ...props
}: Omit<TextFieldProps, "type" | "required" | "hint"> & { optional?: boolean }) {
  return (
    <TextField
      {...props}
      required={!optional}
      maxLength={30}
      hint={optional ? `${USERNAME_RULE} Made from your email when left empty.` : USERNAME_RULE}
    />
  );
}

/**
 * A password field: the `current` one, a `new` one (the API's length rule as its hint and limits), or the `repeat`
 * of a new one.
 */
export function PasswordField({
  kind = "current",
  hint,
  ...props
}: Omit<TextFieldProps, "type"> & { kind?: "current" | "new" | "repeat" }) {
  const fresh = kind !== "current";
  return (
    <TextField
      {...props}
      type="password"
      autoComplete={fresh ? "new-password" : "current-password"}
      required
      minLength={fresh ? 8 : undefined}
      maxLength={fresh ? 128 : undefined}
      hint={hint ?? (kind === "new" ? "8 to 128 characters, not your email or username." : undefined)}
    />
  );
}

/**
 * A form's typed values, kept as the page's own state (so a failure, a network one included, never clears them), and
 * `bind(key)` to wire a TextField to one of them: `<TextField label="Title" {...draft.bind("title")} />`.
 */
export function useDraft<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const bind = (key: keyof T & string): Bound => ({
    name: key,
    value: values[key] ?? "",
    onValue: (value) => setValues((draft) => ({ ...draft, [key]: value })),
  });
  return { values, setValues, bind };
}

type FormAction = { run: () => unknown; busy: boolean; problem: Problem | null; succeeded: boolean };

/**
 * A form that runs its action on submit (Enter in a field included) instead of navigating. It shows what the action
 * did (`done`, once it went through) and its problem in a banner; the fields inside take their problems from it, and
 * the banner lists only what no field shows. `onRun` replaces the plain run (a check before sending).
 */
export function ActionForm({
  action,
  done,
  onRun,
  children,
  ...rest
}: {
  action: FormAction;
  done?: ComponentChildren;
  onRun?: () => void;
  children: ComponentChildren;
  class?: string;
  noValidate?: boolean;
  "aria-label"?: string;
}) {
  const fields = useRef(new Set<string>()).current;
  return (
    <form
      {...rest}
      onSubmit={(event) => {
        event.preventDefault();
        if (onRun) onRun();
        else void action.run();
      }}
    >
      {action.succeeded && done ? (
        <p class="banner banner-ok" role="status">
          {done}
        </p>
      ) : null}
      <ProblemBanner problem={action.problem} fields={[...fields]} of="form" />
      <FormContext.Provider value={{ problem: action.problem, busy: action.busy, fields }}>
        {children}
      </FormContext.Provider>
    </form>
  );
}

/** The submit button of an <ActionForm>: it says it is working while the form's action runs (`busyText`). */
export function Submit({
  children,
  busyText,
  class: className = "primary",
}: {
  children: ComponentChildren;
  busyText: string;
  class?: string;
}) {
  const form = useContext(FormContext);
  return (
    <ActionButton type="submit" class={className} busy={form?.busy ?? false} busyText={busyText}>
      {children}
    </ActionButton>
  );
}

/**
 * The buttons of a record's form: "Create …" (`create`) for a new record, "Save" for a stored one (`create` null), and
 * "Delete" beside it when `onDelete` is given (the page asks for a confirmation before anything is deleted).
 */
export function SaveButtons({ create, onDelete }: { create: string | null; onDelete?: () => void }) {
  return (
    <div class="form-actions">
      <Submit busyText={create ? "Creating…" : "Saving…"}>{create ?? "Save"}</Submit>
      {onDelete ? (
        <button type="button" class="danger" onClick={onDelete}>
          Delete
        </button>
      ) : null}
    </div>
  );
}
