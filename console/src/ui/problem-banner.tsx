import type { ComponentChildren } from "preact";
import { atField, fieldWords } from "../api/field-words";
import { ApiProblem, type Problem, type ProblemContext, problemText } from "../api/problem";

/**
 * A failed call in words, with the request id to quote. Field problems are shown at their fields; the banner then
 * only says the form needs attention (`fields` lists the fields the form shows, so none is hidden). A failed read
 * (`retry`, its reload) offers "Try again" when that can help; `of="form"` says that what was typed is still there.
 */
export function ProblemBanner({
  problem,
  fields = [],
  retry,
  of = "action",
  children,
}: {
  problem: Problem | null;
  fields?: string[];
  /** Reads the data again: the banner is about data the page could not show. */
  retry?: () => unknown;
  of?: Exclude<ProblemContext, "read">;
  /** The page's own account of the problem's details (e.g. which records a bulk action refused), replacing the raw list. */
  children?: ComponentChildren;
}) {
  if (!problem) return null;
  const context: ProblemContext = retry ? "read" : of;
  // Reading again helps when no answer came, the server failed, or it asked to wait; not for a 404 or a 403.
  const retryable = !(problem instanceof ApiProblem) || problem.status >= 500 || problem.status === 429;
  const again =
    retry && retryable ? (
      <p>
        <button type="button" onClick={() => void retry()}>
          Try again
        </button>
      </p>
    ) : null;
  if (children) {
    return (
      <div class="banner banner-error" role="alert">
        <p>{problemText(problem, context)}</p>
        {children}
        <RequestId problem={problem} />
      </div>
    );
  }
  const errors = problem instanceof ApiProblem ? problem.errors : [];
  const elsewhere = errors.filter((e) => !fields.some((field) => atField(e, field)));
  return (
    <div class="banner banner-error" role="alert">
      <p>
        {errors.length > 0 && elsewhere.length === 0
          ? "Please correct the fields marked below."
          : problemText(problem, context)}
      </p>
      {elsewhere.length > 0 ? (
        <ul>
          {elsewhere.map((e, i) => (
            <li key={`${e.path}:${i}`}>
              <code>{e.path}</code>: {fieldWords(e.message)}
            </li>
          ))}
        </ul>
      ) : null}
      {again}
      <RequestId problem={problem} />
    </div>
  );
}

function RequestId({ problem }: { problem: Problem }) {
  return problem instanceof ApiProblem && problem.requestId ? (
    <p class="small">
      Request id <code>{problem.requestId}</code>
    </p>
  ) : null;
}
