import type { ComponentChildren } from "preact";
import { atField, fieldWords } from "../api/field-words";
import { ApiProblem, type Problem, problemText } from "../api/problem";

/**
 * A failed call in words, with the request id to quote. Field problems are shown at their fields; the banner then
 * only says the form needs attention (`fields` lists the fields the form shows, so none is hidden).
 */
export function ProblemBanner({
  problem,
  fields = [],
  children,
}: {
  problem: Problem | null;
  fields?: string[];
  /** The page's own account of the problem's details (e.g. which records a bulk action refused), replacing the raw list. */
  children?: ComponentChildren;
}) {
  if (!problem) return null;
  if (children) {
    return (
      <div class="banner banner-error" role="alert">
        <p>{problemText(problem)}</p>
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
        {errors.length > 0 && elsewhere.length === 0 ? "Please correct the fields marked below." : problemText(problem)}
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
