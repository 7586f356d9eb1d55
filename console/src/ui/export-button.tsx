import { useState } from "preact/hooks";
import { EXPORT_MAX_ROWS } from "../../../src/lib/export-limits";
import { api } from "../api/client";
import { ApiProblem, NetworkProblem } from "../api/problem";
import { useAction } from "./action";
import { ActionButton } from "./button";
import { attachmentName, saveBlob } from "./download";
import { ProblemBanner } from "./problem-banner";
import { plural } from "./words";

type ExportQuery = Record<string, string | undefined>;
type ListName = "tasks" | "products";

const number = new Intl.NumberFormat("en");

/**
 * Records in CSV text read so far: a record ends at a line feed outside quotes (RFC 4180 quotes hold line breaks;
 * a doubled quote toggles twice, so it changes nothing).
 */
export function recordCounter() {
  let quoted = false;
  let records = 0;
  return (text: string) => {
    for (let i = 0; i < text.length; i += 1) {
      const ch = text.charCodeAt(i);
      if (ch === 34) quoted = !quoted;
      else if (ch === 10 && !quoted) records += 1;
    }
    return records;
  };
}

/**
 * "Export CSV" for a list: the API's export of the same query (the list's filters and order, not its page), read as
 * a stream so the button can say how many of the rows have arrived, then saved as the file the API names. The
 * console's own fetch sends the cookie and X-Console header, which a plain link could not. Disabled, with the reason,
 * when the list matches more rows than an export holds.
 */
export function ExportButton({
  list,
  query,
  total,
}: {
  list: ListName;
  query: ExportQuery;
  total: number | undefined;
}) {
  const [progress, setProgress] = useState<{ rows: number; total: number } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const run = useAction(async () => {
    setSaved(null);
    const params = { query: Object.fromEntries(Object.entries(query).filter(([, v]) => v)) };
    let result: Awaited<ReturnType<typeof api.GET>>;
    try {
      result =
        list === "tasks"
          ? await api.GET("/api/v1/tasks/export", { params, parseAs: "stream" })
          : await api.GET("/api/v1/products/export", { params, parseAs: "stream" });
    } catch (error) {
      throw new NetworkProblem(error);
    }
    const { response } = result;
    if (!response.ok) throw new ApiProblem(response, result.error);
    const expected = Number(response.headers.get("x-total-count") ?? "0");
    setProgress({ rows: 0, total: expected });
    const chunks: BlobPart[] = [];
    const decoder = new TextDecoder();
    const count = recordCounter();
    const reader = (result.data as ReadableStream<Uint8Array<ArrayBuffer>>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        // The header row is a record too.
        setProgress({ rows: Math.max(0, count(decoder.decode(value, { stream: true })) - 1), total: expected });
      }
    } catch (error) {
      throw new NetworkProblem(error);
    }
    const name = attachmentName(response, `${list}.csv`);
    saveBlob(new Blob(chunks, { type: "text/csv" }), name);
    setSaved(`Saved ${name}: ${plural(expected, "row")}.`);
    setProgress(null);
  });
  const tooMany = total !== undefined && total > EXPORT_MAX_ROWS;
  return (
    <div class="export">
      <ActionButton
        busy={run.busy}
        busyText="Exporting…"
        reason={
          tooMany
            ? `An export holds at most ${number.format(EXPORT_MAX_ROWS)} rows and these filters match ${number.format(total)}: narrow them to export.`
            : null
        }
        onClick={() => void run.run()}
      >
        Export CSV
      </ActionButton>
      {/* A polite live region, not role=status: the list below keeps the page's one status line. */}
      <p aria-live="polite" class="small export-progress">
        {run.busy && progress
          ? `Exporting ${number.format(progress.rows)} of ${number.format(progress.total)} rows…`
          : (saved ?? "")}
      </p>
      {run.busy && progress ? (
        <progress max={Math.max(1, progress.total)} value={progress.rows} aria-label="Export progress" />
      ) : null}
      <ProblemBanner problem={run.problem} />
    </div>
  );
}
