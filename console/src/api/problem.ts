/**
 * What went wrong with a call, in the words a page shows: an RFC 9457 problem from the API (its title and detail,
 * its per-field `errors`, the request id to quote, when to try again), or no answer at all (the network).
 */

export type FieldProblem = { path: string; message: string };

type ProblemBody = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldProblem[];
  request_id?: string;
};

export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldProblem[];
  readonly requestId: string | undefined;
  /** Seconds to wait, from Retry-After (429, 503). */
  readonly retryAfter: number | undefined;
  readonly body: ProblemBody;

  constructor(response: Response, body: unknown) {
    const problem: ProblemBody = body && typeof body === "object" ? (body as ProblemBody) : {};
    const title = problem.title ?? (response.statusText || `HTTP ${response.status}`);
    super(problem.detail ?? title);
    this.status = response.status;
    this.title = title;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = response.headers.get("x-request-id") ?? problem.request_id ?? undefined;
    this.retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    this.body = problem;
  }

  /** The message for one form field: the problem whose path is that field (or starts with it). */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((e) => e.path === field || e.path.startsWith(`${field}.`))?.message;
  }
}

/** The request never got an answer (offline, server down, connection reset). What was typed stays on the page. */
export class NetworkProblem extends Error {
  override readonly name = "NetworkProblem";
  constructor(cause: unknown) {
    super("The server could not be reached.", { cause });
  }
}

export type Problem = ApiProblem | NetworkProblem;

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** "in 40 seconds", "in 3 minutes", "in 2 hours": when a 429 says to come back. */
export function waitWords(seconds: number): string {
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `in ${minutes} minutes`;
  return `in ${Math.ceil(minutes / 60)} hours`;
}

/** One sentence for a banner. */
export function problemText(problem: Problem): string {
  if (problem instanceof NetworkProblem)
    return "The server could not be reached. Nothing was lost: what you typed is still here. Try again.";
  if (problem.status === 429) {
    const when = problem.retryAfter === undefined ? "later" : waitWords(problem.retryAfter);
    return `Too many attempts. Try again ${when}.`;
  }
  if (problem.detail && problem.detail !== problem.title) return `${problem.title}: ${problem.detail}`;
  return problem.title;
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * The data of an openapi-fetch call, or a thrown Problem. Every page goes through this, so every failure is an
 * ApiProblem (answered) or a NetworkProblem (not answered).
 */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    throw error instanceof ApiProblem ? error : new NetworkProblem(error);
  }
  if (!result.response.ok) throw new ApiProblem(result.response, result.error);
  return result.data as T;
}
