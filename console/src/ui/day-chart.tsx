import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One line of a chart by UTC day: its label, its colour (a CSS custom property) and one value per day. */
export type DaySeries = { label: string; color: string; values: number[] };

const SERIES_COLORS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];
/** The colour of the n-th series; the legend and the line use the same one. */
export const seriesColor = (index: number) => SERIES_COLORS[index % SERIES_COLORS.length]!;

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const count = new Intl.NumberFormat("en", { notation: "compact" });

/** Re-renders when the colour scheme changes, so the canvas takes the new theme's colours. */
function useColorScheme() {
  const query = matchMedia("(prefers-color-scheme: dark)");
  const [dark, setDark] = useState(query.matches);
  useEffect(() => {
    const change = () => setDark(query.matches);
    query.addEventListener("change", change);
    return () => query.removeEventListener("change", change);
  }, []);
  return dark;
}

/**
 * Views (or any count) per UTC day as lines, drawn with uPlot. The canvas is an image to assistive technology
 * (`label` says what it shows); the page puts the same figures in a table beside it. The legend names the lines when
 * there are several, or always with `legend` (a chart of "the top n" that may hold one).
 */
export function DayChart({
  days,
  series,
  label,
  legend = series.length > 1,
}: {
  days: string[];
  series: DaySeries[];
  label: string;
  legend?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const dark = useColorScheme();
  useEffect(() => {
    const element = box.current;
    if (!element || days.length === 0) return;
    const axis = {
      stroke: css("--muted"),
      grid: { stroke: css("--border"), width: 1 },
      ticks: { show: false },
      font: "12px system-ui, sans-serif",
    };
    const chart = new uPlot(
      {
        width: Math.max(240, element.clientWidth),
        height: 240,
        padding: [8, 12, 0, 4],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        // The days are UTC days; show them as such whatever the browser's zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
        axes: [
          { ...axis, space: 60 },
          { ...axis, size: 48, values: (_u, ticks) => ticks.map((v) => count.format(v)) },
        ],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: css(s.color), width: 2, points: { size: 5 } }))],
      },
      [days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000), ...series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(240, element.clientWidth), height: 240 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days, series, dark]);
  return (
    <figure class="chart card">
      <div class="plot" ref={box} role="img" aria-label={label} />
      {legend ? (
        <figcaption>
          <ul class="legend">
            {series.map((s) => (
              <li key={s.color}>
                <span class="swatch" style={{ background: `var(${s.color})` }} aria-hidden="true" />
                {s.label}
              </li>
            ))}
          </ul>
        </figcaption>
      ) : null}
    </figure>
  );
}

/** Every UTC day from `from` to `to`, inclusive (YYYY-MM-DD). */
export function utcDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** The UTC day `n` days before `day`. */
export function daysBefore(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

export const todayUtc = () => new Date().toISOString().slice(0, 10);
