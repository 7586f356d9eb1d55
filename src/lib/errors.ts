import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One error model for the whole API: each code maps to a status and a title (RFC 9457 problem details). */
export const PROBLEMS = {
  bad_request: { status: 400, title: "Bad Request" },
  malformed_json: { status: 400, title: "Malformed JSON" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not Found" },
  method_not_allowed: { status: 405, title: "Method Not Allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload Too Large" },
  unsupported_media_type: { status: 415, title: "Unsupported Media Type" },
  validation_failed: { status: 422, title: "Validation Failed" },
  upgrade_required: { status: 426, title: "Upgrade Required" },
  rate_limited: { status: 429, title: "Too Many Requests" },
  internal: { status: 500, title: "Internal Server Error" },
  service_unavailable: { status: 503, title: "Service Unavailable" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;
export type FieldError = { path: string; message: string };

export const PROBLEM_TYPE_BASE = "https://edge-backoffice.dev/problems/";
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type ProblemOptions = {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members for the problem body, e.g. `{ ids: [...] }` for a bulk failure. */
  extra?: Record<string, unknown>;
};

/** Throw from anywhere; app.onError turns it into problem+json. */
export class ApiError extends HTTPException {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly options: ProblemOptions;

  constructor(code: ProblemCode, detail?: string, options: ProblemOptions = {}) {
    const { status, title } = PROBLEMS[code];
    super(status, { message: detail ?? title });
    this.code = code;
    this.detail = detail ?? title;
    this.options = options;
  }
}

const codeByStatus = new Map<number, ProblemCode>(
  Object.entries(PROBLEMS)
    .filter(([code]) => code !== "malformed_json")
    .map(([code, { status }]) => [status, code as ProblemCode]),
);

/** Maps any status (e.g. from a plain HTTPException thrown by a Hono middleware) to our nearest code. */
export function codeForStatus(status: number): ProblemCode {
  return codeByStatus.get(status) ?? (status >= 500 ? "internal" : "bad_request");
}

export function problemBody(
  code: ProblemCode,
  detail: string,
  ctx: { instance?: string; requestId?: string },
  options: ProblemOptions = {},
) {
  const { status, title } = PROBLEMS[code];
  return {
    type: `${PROBLEM_TYPE_BASE}${code.replaceAll("_", "-")}`,
    title,
    status,
    detail,
    ...(ctx.instance ? { instance: ctx.instance } : {}),
    ...(ctx.requestId ? { request_id: ctx.requestId } : {}),
    ...(options.errors ? { errors: options.errors } : {}),
    ...options.extra,
  };
}

export function problemResponse(
  code: ProblemCode,
  detail: string,
  ctx: { instance?: string; requestId?: string },
  options: ProblemOptions = {},
): Response {
  const body = problemBody(code, detail, ctx, options);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...options.headers },
  });
}
