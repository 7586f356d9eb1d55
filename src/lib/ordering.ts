import { ApiError } from "./errors";

export type Ordering<K extends string> = { field: K; direction: "asc" | "desc" };

/** `ordering=-created_at` style: one declared field, `-` for descending. Anything else is a 400. */
export function parseOrdering<K extends string>(
  value: string | undefined,
  allowed: readonly K[],
  fallback: Ordering<K>,
): Ordering<K> {
  if (!value) return fallback;
  const direction = value.startsWith("-") ? "desc" : "asc";
  const field = value.replace(/^[-+]/, "") as K;
  if (!allowed.includes(field)) {
    throw new ApiError(
      "bad_request",
      `Cannot order by '${field}'. Allowed: ${allowed.join(", ")} (prefix - for descending).`,
      {
        errors: [{ path: "ordering", message: `unknown ordering field '${field}'` }],
      },
    );
  }
  return { field, direction };
}
