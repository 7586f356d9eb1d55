import { describe, expect, it } from "vitest";
import { CSV_CONTENT_TYPE, csvCell, csvDisposition, csvRecord, csvStream } from "../../src/lib/csv";
import { pagesOf } from "../../src/lib/export";
import { parseCsv } from "../csv";

describe("csvCell: RFC 4180 quoting", () => {
  it("writes plain text, numbers and empty cells as they are", () => {
    expect(csvCell("Desk Lamp")).toBe("Desk Lamp");
    expect(csvCell(42)).toBe("42");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell("")).toBe("");
  });

  it("quotes a cell holding a comma, a quote, CR or LF, and doubles its quotes", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("two\r\nlines")).toBe('"two\r\nlines"');
  });
});

describe("csvCell: spreadsheet formula injection (OWASP CSV injection)", () => {
  it.each([
    ['=HYPERLINK("http://evil.test","click")', `"'=HYPERLINK(""http://evil.test"",""click"")"`],
    ["+1+1", "'+1+1"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1:A9)", "'@SUM(A1:A9)"],
    ["\t=1+1", "'\t=1+1"],
    ["\r=1+1", `"'\r=1+1"`],
  ])("%j becomes text", (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it("leaves a formula character that is not first, and numbers the app writes, alone", () => {
    expect(csvCell("a=b")).toBe("a=b");
    expect(csvCell("price: -3")).toBe("price: -3");
    expect(csvCell(-3)).toBe("-3");
  });

  it("round-trips through a strict reader: every text comes back whole, formulas behind a quote", () => {
    const values = ["plain", "a,b", 'q"q', "x\r\ny", "=1+2", "-minus", "", "Zoë 😀", "@at", "\ttab"];
    const text = csvRecord(values) + csvRecord(["second", null, 7]);
    const [first, second] = parseCsv(text);
    expect(first).toEqual(values.map((v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v)));
    expect(second).toEqual(["second", "", "7"]);
  });
});

describe("csvStream", () => {
  it("sends the header, then each page as the reader asks, and reads no page before it is wanted", async () => {
    let read = 0;
    async function* pages() {
      for (let page = 0; page < 3; page += 1) {
        read += 1;
        yield [[`row ${page}`, page]];
      }
    }
    const reader = csvStream(["name", "n"], pages()).getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe("name,n\r\n");
    expect(read).toBe(0);
    expect(decoder.decode((await reader.read()).value)).toBe("row 0,0\r\n");
    expect(read).toBe(1);
    await reader.cancel();
    // Cancelling stops the pages: the generator is closed and reads nothing more.
    expect(read).toBe(1);
  });

  it("names the file by list and UTC day, and says it has a header row", () => {
    expect(csvDisposition("tasks", Date.UTC(2026, 10, 20, 23, 59))).toBe('attachment; filename="tasks-2026-11-20.csv"');
    expect(CSV_CONTENT_TYPE).toBe("text/csv; charset=utf-8; header=present");
  });
});

describe("pagesOf", () => {
  it("reads the rows of the ids a page at a time, in the ids' order, leaving out rows gone meanwhile", async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `id-${i}`);
    const asked: string[][] = [];
    const load = async (chunk: string[]) => {
      asked.push(chunk);
      // Answered in no particular order, and without id-7 (deleted since the ids were read).
      return chunk
        .filter((id) => id !== "id-7")
        .reverse()
        .map((id) => ({ id }));
    };
    const pages = [];
    for await (const page of pagesOf(ids, 10, load, (row) => row.id)) pages.push(page.map((row) => row.id));
    expect(asked.map((chunk) => chunk.length)).toEqual([10, 10, 3]);
    expect(pages.flat()).toEqual(ids.filter((id) => id !== "id-7"));
    expect(pages.map((page) => page.length)).toEqual([9, 10, 3]);
  });
});
