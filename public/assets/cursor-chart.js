// @ts-check
// The live cursor chart: speed and cumulative distance over the last minute, drawn with uPlot from the session's
// live frames. One module for every page that draws it: the capture page (/capture, through /assets/cursor.js) and
// the console's live session page (console/src/pages/sessions/live.tsx, bundled by Vite). Plain JavaScript, so the
// capture page loads it as it is; the console type-checks it from these JSDoc types.

/** Seconds of history the chart keeps. */
export const CHART_WINDOW_S = 60;
/** No frame for this long: the pointer is at rest, and the speed line drops to zero. */
export const IDLE_MS = 400;

/**
 * @typedef {{ speed: HTMLElement, distance: HTMLElement }} ChartContainers
 * @typedef {{
 *   uPlot: typeof import("uplot"),
 *   containers: ChartContainers,
 *   css?: (name: string) => string,
 * }} ChartOptions
 */

const fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const fmt1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1.2M, 34k, 999: axis labels that fit. */
export function compact(/** @type {number} */ v) {
  if (v >= 1_000_000) return `${fmt1.format(v / 1_000_000)}M`;
  if (v >= 10_000) return `${fmt.format(v / 1000)}k`;
  return fmt.format(v);
}

/** A CSS custom property of the page (`--speed`), read when the charts are built. */
function rootVariable(/** @type {string} */ name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * The two charts in their containers. Feed it every live frame with `frame(t, speed, distance)`, call `render()`
 * once per animation frame (it draws only when something changed, and brings the speed down to zero once the
 * pointer rests), `reset()` for a new session, `rebuild()` when the colour scheme changes, `destroy()` when done.
 * Colours come from the page's `--speed`, `--speed-fill`, `--distance`, `--distance-fill`, `--faint` and `--grid`.
 * @param {ChartOptions} options
 */
export function cursorChart({ uPlot, containers, css = rootVariable }) {
  /** @type {{ x: number[], speed: number[], distance: number[] }} */
  const data = { x: [], speed: [], distance: [] };
  let dirty = false;
  let lastFrameAt = 0;
  /** @type {{ t: number, distance: number } | null} */
  let last = null;
  let resting = true;
  /** @type {{ chart: import("uplot"), key: "speed" | "distance", container: HTMLElement }[]} */
  const charts = [];

  /**
   * @param {HTMLElement} container
   * @param {"speed" | "distance"} key
   * @param {string} color
   * @param {string} fill
   */
  function make(container, key, color, fill) {
    /** @param {import("uplot")} u */
    const gradient = (u) => {
      const g = u.ctx.createLinearGradient(0, u.bbox.top, 0, u.bbox.top + u.bbox.height);
      g.addColorStop(0, css(fill));
      g.addColorStop(1, "transparent");
      return g;
    };
    const axis = {
      stroke: css("--faint"),
      grid: { stroke: css("--grid"), width: 1 },
      ticks: { show: false },
      font: "12px system-ui, sans-serif",
    };
    const spline = uPlot.paths?.spline?.();
    const chart = new uPlot(
      {
        width: Math.max(200, container.clientWidth),
        height: container.clientHeight || 230,
        padding: [8, 12, 0, 4],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 7 } },
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, Math.max(key === "speed" ? 100 : 500, max * 1.15)] },
        },
        axes: [
          { ...axis, space: 70 },
          { ...axis, size: 56, values: (_u, ticks) => ticks.map((v) => compact(v)) },
        ],
        series: [
          {},
          {
            label: key,
            stroke: css(color),
            width: 2,
            fill: gradient,
            points: { show: false },
            ...(spline ? { paths: spline } : {}),
          },
        ],
      },
      [data.x, data[key]],
      container,
    );
    charts.push({ chart, key, container });
  }

  function build() {
    for (const { chart } of charts.splice(0)) chart.destroy();
    make(containers.speed, "speed", "--speed", "--speed-fill");
    make(containers.distance, "distance", "--distance", "--distance-fill");
  }

  /**
   * @param {number} t epoch ms of the frame
   * @param {number} speed px/s
   * @param {number} distance cumulative px
   */
  function push(t, speed, distance) {
    const x = t / 1000;
    const lastX = data.x[data.x.length - 1];
    if (lastX !== undefined && x < lastX) return;
    // After a rest, start the rise from zero rather than drawing a slow ramp across the pause.
    if (
      lastX !== undefined &&
      speed > 0 &&
      x - lastX > (2 * IDLE_MS) / 1000 &&
      data.speed[data.speed.length - 1] === 0
    ) {
      data.x.push(x - IDLE_MS / 2000);
      data.speed.push(0);
      data.distance.push(data.distance[data.distance.length - 1] ?? 0);
    }
    data.x.push(x);
    data.speed.push(speed);
    data.distance.push(distance);
    const cutoff = x - CHART_WINDOW_S;
    let drop = 0;
    while (drop < data.x.length && (data.x[drop] ?? 0) < cutoff) drop++;
    if (drop) {
      data.x.splice(0, drop);
      data.speed.splice(0, drop);
      data.distance.splice(0, drop);
    }
    dirty = true;
  }

  const resize = new ResizeObserver(() => {
    for (const { chart, container } of charts) {
      chart.setSize({ width: Math.max(200, container.clientWidth), height: container.clientHeight || 230 });
    }
  });

  build();
  resize.observe(containers.speed);
  resize.observe(containers.distance);

  return {
    /** A live frame: its time (epoch ms), the speed over its batch and the total distance so far. */
    frame(/** @type {number} */ t, /** @type {number} */ speed, /** @type {number} */ distance) {
      lastFrameAt = performance.now();
      last = { t, distance };
      resting = speed === 0;
      push(t, speed, distance);
    },
    /** Draws what changed; once no frame came for IDLE_MS, the speed line drops to zero. */
    render() {
      if (!resting && last && performance.now() - lastFrameAt > IDLE_MS) {
        resting = true;
        push(last.t + IDLE_MS, 0, last.distance);
      }
      if (!dirty) return;
      dirty = false;
      for (const { chart, key } of charts) chart.setData([data.x, data[key]]);
    },
    /** Forgets every point (a new session). */
    reset() {
      data.x.length = 0;
      data.speed.length = 0;
      data.distance.length = 0;
      last = null;
      resting = true;
      dirty = true;
    },
    /** Builds the charts again with the page's current colours (after a colour scheme change). */
    rebuild: build,
    destroy() {
      resize.disconnect();
      for (const { chart } of charts.splice(0)) chart.destroy();
    },
  };
}
