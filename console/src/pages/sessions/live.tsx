import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { cursorChart, IDLE_MS } from "../../../../public/assets/cursor-chart.js";
import { api } from "../../api/client";
import { ApiProblem, NetworkProblem, unwrap } from "../../api/problem";
import { useLocation } from "../../router";
import { useAction } from "../../ui/action";
import { ActionButton } from "../../ui/button";
import { ConfirmDialog } from "../../ui/dialog";
import { attachmentName, saveBlob } from "../../ui/download";
import { BackLink, QuerySelect, RefreshButton, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { RecordPage } from "../../ui/record";
import { Facts, ScrollTable, Table } from "../../ui/table";
import { absoluteTime } from "../../ui/time";
import { plural } from "../../ui/words";
import {
  BUCKETS,
  type CursorFrame,
  type CursorSession,
  distance,
  number,
  type StatsBucket,
  sessionList,
  speed,
} from "./model";

/**
 * One cursor session: while it runs, its live chart (the capture page's own chart module, fed by the session's
 * WebSocket) and figures; always its statistics by bucket; once ended, its archive to download.
 */
export default function SessionPage() {
  const { params } = useLocation();
  const id = params.id ?? "";
  const session = useLoad(id, () => unwrap(api.GET("/api/v1/cursor/sessions/{id}", { params: { path: { id } } })));
  return (
    <RecordPage record={session} title={`Session ${id.slice(0, 8)}`} what="the session" back={sessionList}>
      {(data) => <SessionView session={data as CursorSession} reload={session.reload} />}
    </RecordPage>
  );
}

function SessionView({ session: data, reload }: { session: CursorSession; reload: () => Promise<void> }) {
  const [confirmEnd, setConfirmEnd] = useState(false);
  const end = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/cursor/sessions/{id}", { params: { path: { id: data.id } } }));
    setConfirmEnd(false);
    await reload();
  });
  const ended = Boolean(data.ended_at);
  return (
    <Page
      title={`Session ${data.id.slice(0, 8)}`}
      actions={
        ended ? null : (
          <button type="button" class="danger" onClick={() => setConfirmEnd(true)}>
            End session
          </button>
        )
      }
    >
      <BackLink to={sessionList} />
      <section class="card" aria-labelledby="session-title">
        <h2 id="session-title">Session</h2>
        <Facts
          rows={[
            ["Id", <code key="id">{data.id}</code>],
            ["Label", data.label || null],
            [
              "State",
              <>
                {ended ? <span class="tag">Ended</span> : <span class="tag tag-ok">Live</span>}
                {data.ended_at ? ` ${absoluteTime(data.ended_at)}` : ""}
              </>,
            ],
            ["Started", absoluteTime(data.created_at)],
            ["Viewport", `${data.viewport.width}×${data.viewport.height} px`],
            ["Stored totals", `${number.format(data.event_count)} events, ${distance(data.total_distance)}`],
          ]}
        />
      </section>
      {ended ? null : <LiveChart id={data.id} onEnded={() => void reload()} />}
      <Stats id={data.id} live={!ended} />
      <Archive id={data.id} ended={ended} />
      <ConfirmDialog
        open={confirmEnd}
        title="End this session?"
        confirmText="End session"
        danger
        action={end}
        onClose={() => setConfirmEnd(false)}
      >
        <p>The page that records it stops being accepted and starts a new session; its events are archived.</p>
      </ConfirmDialog>
    </Page>
  );
}

type Live = {
  state: "connecting" | "live" | "reconnecting" | "ended";
  speed: number;
  distance: number;
  events: number;
  /** A frame came since the page opened: until then the charts have nothing to draw. */
  moved: boolean;
};

/** Socket URL on this page's own host: the cookie and Origin are what the API checks for a console viewer. */
function socketUrl(id: string) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/api/v1/cursor/sessions/${encodeURIComponent(id)}/live`;
}

const STATE_WORDS: Record<Live["state"], string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Ended",
};

/** The live figures and chart: frames from the session's socket, drawn by the same module as the capture page. */
function LiveChart({ id, onEnded }: { id: string; onEnded: () => void }) {
  const speedBox = useRef<HTMLDivElement>(null);
  const distanceBox = useRef<HTMLDivElement>(null);
  const [live, setLive] = useState<Live>({
    state: "connecting",
    speed: 0,
    distance: 0,
    events: 0,
    moved: false,
  });
  const ended = useRef(onEnded);
  ended.current = onEnded;
  useEffect(() => {
    const chart = cursorChart({
      uPlot,
      containers: { speed: speedBox.current!, distance: distanceBox.current! },
    });
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    const rebuild = () => chart.rebuild();
    scheme.addEventListener("change", rebuild);
    let frame = 0;
    const draw = () => {
      chart.render();
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);

    let socket: WebSocket | null = null;
    let retry = 0;
    let failures = 0;
    let stopped = false;
    let lastFrameAt = 0;
    const connect = () => {
      const ws = new WebSocket(socketUrl(id));
      socket = ws;
      ws.addEventListener("message", (event) => {
        if (event.data === "pong") return;
        let message: CursorFrame;
        try {
          message = JSON.parse(event.data as string) as CursorFrame;
        } catch {
          return;
        }
        if (message.type === "hello") {
          failures = 0;
          setLive((l) => ({
            ...l,
            state: message.ended ? "ended" : "live",
            distance: message.total_distance,
            events: message.event_count,
          }));
        } else if (message.type === "frame") {
          lastFrameAt = performance.now();
          chart.frame(message.t, message.speed, message.total_distance);
          setLive({
            state: "live",
            speed: message.speed,
            distance: message.total_distance,
            events: message.event_count,
            moved: true,
          });
        } else if (message.type === "ended") {
          stopped = true;
          setLive((l) => ({ ...l, state: "ended", speed: 0 }));
          ended.current();
        }
      });
      ws.addEventListener("close", () => {
        if (socket !== ws || stopped) return;
        failures += 1;
        setLive((l) => ({ ...l, state: "reconnecting" }));
        retry = window.setTimeout(connect, Math.min(10_000, 500 * 2 ** Math.min(failures, 5)));
      });
    };
    connect();
    // The speed figure drops to zero when frames stop, as the line does.
    const idle = setInterval(() => {
      if (performance.now() - lastFrameAt > IDLE_MS) setLive((l) => (l.speed === 0 ? l : { ...l, speed: 0 }));
    }, IDLE_MS);
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(idle);
      cancelAnimationFrame(frame);
      scheme.removeEventListener("change", rebuild);
      socket?.close(1000, "page closed");
      chart.destroy();
    };
  }, [id]);
  return (
    <section class="card live" aria-labelledby="live-title">
      <div class="section-head">
        <h2 id="live-title">Live</h2>
        <p class={`live-state live-${live.state}`} role="status">
          <span class="dot" aria-hidden="true" />
          {STATE_WORDS[live.state]}
        </p>
      </div>
      <dl class="figures">
        <div>
          <dt>Speed</dt>
          <dd data-value={live.speed}>{speed(live.speed)}</dd>
        </div>
        <div>
          <dt>Distance</dt>
          <dd data-value={live.distance}>{distance(live.distance)}</dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd data-value={live.events} data-testid="live-events">
            {number.format(live.events)}
          </dd>
        </div>
      </dl>
      {live.moved ? null : (
        <p class="muted small">
          Waiting for the pointer to move: the charts draw the last minute of movement on the capture page as it
          happens.
        </p>
      )}
      <div class="charts">
        <figure class="chart">
          <figcaption>Speed, px/s, last 60 s</figcaption>
          <div class="plot" ref={speedBox} role="img" aria-label="Chart of the pointer's speed over the last minute" />
        </figure>
        <figure class="chart">
          <figcaption>Cumulative distance, px</figcaption>
          <div class="plot" ref={distanceBox} role="img" aria-label="Chart of the total distance travelled" />
        </figure>
      </div>
    </section>
  );
}

const STATS_ROWS = 100;

/** The session's statistics re-aggregated by the chosen bucket (in the query string), newest first. */
function Stats({ id, live }: { id: string; live: boolean }) {
  const { query } = useLocation();
  const bucket = BUCKETS.find((b) => b.value === query.get("bucket"))?.value ?? "10s";
  const stats = useLoad(
    `${id}:${bucket}`,
    () => unwrap(api.GET("/api/v1/cursor/sessions/{id}/stats", { params: { path: { id }, query: { bucket } } })),
    { every: live ? 5_000 : undefined },
  );
  const refresh = useAction(stats.reload);
  const buckets = ((stats.data?.buckets ?? []) as StatsBucket[]).slice(-STATS_ROWS).reverse();
  return (
    <section class="card" aria-labelledby="stats-title">
      <div class="section-head">
        <h2 id="stats-title">Statistics</h2>
        <QuerySelect label="Bucket" param="bucket" value={bucket} fallback="10s" options={BUCKETS} replace inline />
        <RefreshButton busy={refresh.busy} onClick={() => void refresh.run()} />
      </div>
      <ProblemBanner problem={stats.problem} retry={stats.reload} />
      <StatusLine
        loading={stats.loading && !stats.data}
        what="statistics"
        done={
          stats.data
            ? `${number.format(stats.data.totals.event_count)} events, ${distance(stats.data.totals.distance)} in ${plural(stats.data.buckets.length, "bucket")}${stats.data.buckets.length > STATS_ROWS ? ` (the latest ${STATS_ROWS} below)` : ""}.`
            : null
        }
      />
      <ScrollTable label="Statistics by bucket">
        <Table
          columns={[
            "From",
            ...["Events", "Distance", "Average speed", "Peak speed"].map((label) => ({ label, num: true })),
          ]}
        >
          {buckets.map((b) => (
            <tr key={b.start}>
              <td>
                <time dateTime={b.start}>{new Date(b.start).toLocaleTimeString("en")}</time>
              </td>
              <td class="num">{number.format(b.event_count)}</td>
              <td class="num">{distance(b.distance)}</td>
              <td class="num">{speed(b.avg_speed)}</td>
              <td class="num">{speed(b.peak_speed)}</td>
            </tr>
          ))}
        </Table>
        {stats.data && buckets.length === 0 ? <p class="empty">No events yet.</p> : null}
      </ScrollTable>
    </section>
  );
}

/** The archive (gzip NDJSON, one event a line), written when the session ends. */
function Archive({ id, ended }: { id: string; ended: boolean }) {
  const download = useAction(async () => {
    const result = await api
      .GET("/api/v1/cursor/sessions/{id}/archive", { params: { path: { id } }, parseAs: "blob" })
      .catch((error: unknown) => {
        throw new NetworkProblem(error);
      });
    if (!result.response.ok) throw new ApiProblem(result.response, result.error);
    saveBlob(result.data as unknown as Blob, attachmentName(result.response, `${id}.ndjson.gz`));
    return true;
  });
  return (
    <section class="card" aria-labelledby="archive-title">
      <h2 id="archive-title">Archive</h2>
      <p>Every raw event of the session, one JSON object a line, gzip-compressed.</p>
      <ActionButton
        busy={download.busy}
        busyText="Downloading…"
        reason={ended ? null : "The archive is written when the session ends."}
        onClick={() => void download.run()}
      >
        Download archive
      </ActionButton>
      <p role="status" class="small">
        {download.succeeded ? "Downloaded." : ""}
      </p>
      <ProblemBanner problem={download.problem} />
    </section>
  );
}
