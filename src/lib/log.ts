type Level = "debug" | "info" | "warn" | "error";

/** Structured JSON logs, one object a line, so Workers Logs can filter on any field. */
export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export function errorFields(error: unknown): Record<string, unknown> {
  return error instanceof Error
    ? { error: error.message, error_name: error.name, stack: error.stack }
    : { error: String(error) };
}
