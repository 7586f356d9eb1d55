import { ApiProblem, type Problem, problemText } from "../api/problem";

/**
 * A failed call in words, with the request id to quote. Field problems are shown at their fields; the banner then
 * only says the form needs attention (`fields` lists the fields the form shows, so none is hidden).
 */
export function ProblemBanner({ problem, fields = [] }: { problem: Problem | null; fields?: string[] }) {
  if (!problem) return null;
  const atFields =
    problem instanceof ApiProblem
      ? problem.errors.filter((e) => fields.some((f) => e.path === f || e.path.startsWith(`${f}.`)))
      : [];
  const elsewhere = problem instanceof ApiProblem ? problem.errors.filter((e) => !atFields.includes(e)) : [];
  return (
    <div class="banner banner-error" role="alert">
      <p>
        {atFields.length > 0 && elsewhere.length === 0
          ? "Please correct the fields marked below."
          : problemText(problem)}
      </p>
      {elsewhere.length > 0 ? (
        <ul>
          {elsewhere.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {problem instanceof ApiProblem && problem.requestId ? (
        <p class="muted small">
          Request id <code>{problem.requestId}</code>
        </p>
      ) : null}
    </div>
  );
}
