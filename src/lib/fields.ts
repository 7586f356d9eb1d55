import { ApiError } from "./errors";

/**
 * `fields=a,b` keeps only those keys, `omit=c` drops keys; unknown names are a 400 listing each one, and so is a
 * selection that leaves no field.
 * Returns null when the whole object is wanted.
 */
export function parseFieldSelection(
  allowed: readonly string[],
  fields: string | undefined,
  omit: string | undefined,
): Set<string> | null {
  if (!fields && !omit) return null;
  const known = new Set(allowed);
  const split = (value: string | undefined) =>
    (value ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const wanted = split(fields);
  const dropped = split(omit);
  const unknown = [...wanted, ...dropped].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ApiError("bad_request", `Unknown field(s): ${[...new Set(unknown)].join(", ")}.`, {
      errors: unknown.map((name) => ({
        path: fields?.includes(name) ? "fields" : "omit",
        message: `unknown field '${name}'`,
      })),
      extra: { allowed_fields: allowed },
    });
  }
  const selected = new Set(wanted.length > 0 ? wanted : allowed);
  for (const name of dropped) selected.delete(name);
  if (selected.size === 0) {
    // Nothing left: empty objects in a list, a header-less CSV of blank lines. Say so instead.
    throw new ApiError("bad_request", "`omit` leaves no field to return. Keep at least one.", {
      errors: [{ path: "omit", message: "leaves no field" }],
      extra: { allowed_fields: allowed },
    });
  }
  return selected;
}

export function pickFields<T extends Record<string, unknown>>(item: T, selected: Set<string> | null): Partial<T> {
  if (!selected) return item;
  const out: Partial<T> = {};
  for (const key of Object.keys(item) as (keyof T & string)[]) {
    if (selected.has(key)) out[key] = item[key];
  }
  return out;
}
