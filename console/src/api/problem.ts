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

/** A sentence: the first letter capital, a full stop at the end. */
export const sentence = (text: string) => {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

/** What a status means when the API gave no sentence of its own, and what to do next where one step fits every case. */
const STATUS_WORDS: Record<number, { said?: string; next?: string }> = {
  400: { said: "The request was not accepted." },
  // Only the sign-in and sign-up calls show a 401 (any other one refreshes the session or goes to sign-in).
  401: { said: "You are not signed in. Sign in and try again.", next: "Check what you typed and try again." },
  403: { said: "You may not do this." },
  404: { said: "This was not found.", next: "It may have been deleted, or the link is wrong." },
  409: { said: "This clashes with what is stored now. Reload the page and try again." },
  413: { said: "This is too large to send.", next: "Shorten it and try again." },
  422: { said: "Some values are not accepted.", next: "Correct what is marked and try again." },
};
const SERVER_FAILED =
  "Something went wrong on the server. Try again in a moment; if it keeps happening, give an admin the request id below.";

/**
 * What the failed call was, for the words of a network failure: a `form` sent (what was typed is still there), data
 * `read` for the page (the banner offers to read it again), or another `action` (a button's).
 */
export type ProblemContext = "form" | "read" | "action";

const UNREACHED: Record<ProblemContext, string> = {
  form: "The server could not be reached. Nothing was lost: what you typed is still here. Try again.",
  read: "The server could not be reached, so this could not be shown. Check your connection, then try again.",
  action: "The server could not be reached. Check your connection, then try again.",
};

/**
 * One banner's words for a failed call: what happened, and what to do now. The API's own sentence (`detail`) when it
 * has one (it names the rule: "Only the creator or an admin may delete this task."), never the bare HTTP title; a 429
 * (and a 503 that says when) gives the wait in words; a network failure says what became of the call (`context`).
 */
export function problemText(problem: Problem, context: ProblemContext = "action"): string {
  if (problem instanceof NetworkProblem) return UNREACHED[context];
  const { status, retryAfter } = problem;
  const when = retryAfter === undefined ? "later" : waitWords(retryAfter);
  if (status === 429) return `Too many attempts. Try again ${when}.`;
  if (status === 503) return `The service is busy. Try again ${when}.`;
  if (status >= 500) return SERVER_FAILED;
  const words = STATUS_WORDS[status] ?? {};
  const own = problem.detail && problem.detail !== problem.title ? sentence(problem.detail) : undefined;
  const said = own ?? words.said ?? `The request failed (${problem.title}).`;
  // A sentence that already says what to do ("…; sign in again.", "…; read it again and retry.") needs no more.
  const next = /\b(again|retry|ask)\b/i.test(said) ? undefined : words.next;
  return next ? `${said} ${next}` : said;
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
