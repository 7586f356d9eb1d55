/**
 * CSV exports (RFC 4180): a header row, then one record per row, CRLF after each. A cell is quoted when it holds a
 * comma, a double quote, CR or LF, with its quotes doubled. Text that a spreadsheet would run as a formula (starting
 * with `=`, `+`, `-`, `@`, tab or CR: OWASP "CSV injection") gets a leading `'`, so Excel, LibreOffice and Google
 * Sheets show it as text. Numbers the app itself formats (prices, counts) are written as they are.
 */

export type Cell = string | number | boolean | null | undefined;

/** RFC 4180 `text/csv` with the optional parameters naming the charset and the header row. */
export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present";

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: empty for null, numbers as written, text neutralised and quoted as needed. */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRecord(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/**
 * A byte stream of the header and every record the pages yield, pulled one page at a time: the next page is read
 * only when the client has asked for more, so an export never holds more than a page in memory.
 */
export function csvStream(header: readonly string[], pages: AsyncIterable<readonly (readonly Cell[])[]>) {
  const encoder = new TextEncoder();
  const iterator = pages[Symbol.asyncIterator]();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(csvRecord(header)));
          return;
        }
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          return;
        }
        if (next.value.length > 0) controller.enqueue(encoder.encode(next.value.map(csvRecord).join("")));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    // No read-ahead: a page is read from D1 only when the client has taken everything before it.
    { highWaterMark: 0 },
  );
}

/** `attachment; filename="<name>-YYYY-MM-DD.csv"`, the day in UTC (the name is ours, never the client's). */
export function csvDisposition(name: string, now: number): string {
  return `attachment; filename="${name}-${new Date(now).toISOString().slice(0, 10)}.csv"`;
}

/** A list field's CSV columns: most fields are one column, an object field one per part (`created_by_id`). */
export type CsvColumns<Item> = Record<string, { header: string; cell: (item: Item) => Cell }[]>;

/** The columns of the selected fields (all of them when `selected` is null), in the list's field order. */
export function selectColumns<Item>(
  columns: CsvColumns<Item>,
  fields: readonly string[],
  selected: Set<string> | null,
) {
  return fields.filter((field) => selected === null || selected.has(field)).flatMap((field) => columns[field] ?? []);
}
