import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { cursorChart, IDLE_MS } from "../../../../public/assets/cursor-chart.js";
import { api } from "../../api/client";
import { ApiProblem, NetworkProblem, unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { useAction } from "../../ui/action";
import { ConfirmDialog } from "../../ui/dialog";
import { attachmentName, saveBlob } from "../../ui/download";
import { StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { ScrollTable } from "../../ui/scroll-table";
import { absoluteTime } from "../../ui/time";
import { BUCKETS, type CursorFrame, type CursorSession, distance, number, type StatsBucket, speed } from "./model";

/**
 * One cursor session: while it runs, its live chart (the capture page's own chart module, fed by the session's
 * WebSocket) and figures; always its statistics by bucket; once ended, its archive to download.
 */
export default function SessionPage() {
  const { params } = useLocation();
  const id = params.id ?? "";
  const session = useLoad(id, () => unwrap(api.GET("/api/v1/cursor/sessions/{id}", { params: { path: { id } } })));
  const data = session.data as CursorSession | undefined;
  const [confirmEnd, setConfirmEnd] = useState(false);
  const end = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/cursor/sessions/{id}", { params: { path: { id } } }));
    setConfirmEnd(false);
    await session.reload();
  });
  const ended = Boolean(data?.ended_at);
  return (
    <Page
      title={`Session ${id.slice(0, 8)}`}
      actions={
        data && !ended ? (
          <button type="button" class="danger" onClick={() => setConfirmEnd(true)}>
            End session
          </button>
        ) : null
      }
    >
      <p>
        <Link href="/sessions">Back to the sessions</Link>
      </p>
      <ProblemBanner problem={session.problem} />
      {session.loading && !data ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          Loading the session…
        </p>
      ) : null}
      {data ? (
        <>
          <section class="card" aria-labelledby="session-title">
            <h2 id="session-title">Session</h2>
            <dl class="facts">
              <dt>Id</dt>
              <dd>
                <code>{data.id}</code>
              </dd>
              {data.label ? (
                <>
                  <dt>Label</dt>
                  <dd>{data.label}</dd>
                </>
              ) : null}
              <dt>State</dt>
              <dd>
                {ended ? <span class="tag">Ended</span> : <span class="tag tag-ok">Live</span>}
                {data.ended_at ? ` ${absoluteTime(data.ended_at)}` : ""}
              </dd>
              <dt>Started</dt>
              <dd>{absoluteTime(data.created_at)}</dd>
              <dt>Viewport</dt>
              <dd>
                {data.viewport.width}×{data.viewport.height} px
              </dd>
              <dt>Stored totals</dt>
              <dd>
                {number.format(data.event_count)} events, {distance(data.total_distance)}
              </dd>
            </dl>
          </section>
          {ended ? null : <LiveChart id={id} onEnded={() => void session.reload()} />}
          <Stats id={id} live={!ended} />
          <Archive id={id} ended={ended} />
        </>
      ) : null}
      <ConfirmDialog
        open={confirmEnd}
        title="End this session?"
        confirmText="End session"
        danger
        busy={end.busy}
        onConfirm={() => void end.run()}
        onCancel={() => setConfirmEnd(false)}
      >
        <p>The page that records it stops being accepted and starts a new session; its events are archived.</p>
        <ProblemBanner problem={end.problem} />
      </ConfirmDialog>
    </Page>
  );
}

type Live = {
  state: "connecting" | "live" | "reconnecting" | "ended";
  speed: number;
  distance: number;
  events: number;
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
  const [live, setLive] = useState<Live>({ state: "connecting", speed: 0, distance: 0, events: 0 });
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
  const stats = useLoad(`${id}:${bucket}`, () =>
    unwrap(api.GET("/api/v1/cursor/sessions/{id}/stats", { params: { path: { id }, query: { bucket } } })),
  );
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => void stats.reload(), 5_000);
    return () => clearInterval(timer);
  }, [live]);
  const buckets = ((stats.data?.buckets ?? []) as StatsBucket[]).slice(-STATS_ROWS).reverse();
  return (
    <section class="card" aria-labelledby="stats-title">
      <div class="section-head">
        <h2 id="stats-title">Statistics</h2>
        <div class="field inline">
          <label for="stats-bucket">Bucket</label>
          <select
            id="stats-bucket"
            value={bucket}
            onChange={(e) =>
              setQuery({ bucket: e.currentTarget.value === "10s" ? null : e.currentTarget.value }, { replace: true })
            }
          >
            {BUCKETS.map((b) => (
              <option key={b.value} value={b.value}>
                {b.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={() => void stats.reload()} aria-busy={stats.loading}>
          Refresh
        </button>
      </div>
      <ProblemBanner problem={stats.problem} />
      <StatusLine
        loading={stats.loading && !stats.data}
        what="statistics"
        done={
          stats.data
            ? `${number.format(stats.data.totals.event_count)} events, ${distance(stats.data.totals.distance)} in ${stats.data.buckets.length} buckets${stats.data.buckets.length > STATS_ROWS ? ` (the latest ${STATS_ROWS} below)` : ""}.`
            : null
        }
      />
      <ScrollTable label="Statistics by bucket">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col" class="num">
                Events
              </th>
              <th scope="col" class="num">
                Distance
              </th>
              <th scope="col" class="num">
                Average speed
              </th>
              <th scope="col" class="num">
                Peak speed
              </th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
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
      <button
        type="button"
        aria-disabled={!ended || download.busy}
        aria-busy={download.busy}
        aria-describedby={ended ? undefined : "archive-why"}
        onClick={() => ended && void download.run()}
      >
        {download.busy ? <span class="spinner" aria-hidden="true" /> : null}
        {download.busy ? "Downloading…" : "Download archive"}
      </button>
      {ended ? null : (
        <p class="hint why" id="archive-why">
          The archive is written when the session ends.
        </p>
      )}
      <p role="status" class="small">
        {download.succeeded ? "Downloaded." : ""}
      </p>
      <ProblemBanner problem={download.problem} />
    </section>
  );
}
