/** Epoch milliseconds (database) to ISO 8601 UTC (JSON). */
export function toIso(ms: number): string;
export function toIso(ms: number | null | undefined): string | null;
export function toIso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** ISO 8601 (already validated by zod) to epoch milliseconds. */
export function fromIso(iso: string): number;
export function fromIso(iso: string | null | undefined): number | null;
export function fromIso(iso: string | null | undefined): number | null {
  return iso === null || iso === undefined ? null : Date.parse(iso);
}

/** The UTC calendar day (YYYY-MM-DD) of an epoch-ms instant. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of the start of a UTC day given as YYYY-MM-DD. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}
