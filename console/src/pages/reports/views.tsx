import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { DayChart, daysBefore, seriesColor, todayUtc } from "../../ui/day-chart";
import { StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";

const LIMITS = ["5", "10", "20"];
/** Lines drawn at most: more than this is a tangle; the table lists every product of the report. */
const MAX_LINES = 6;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The most viewed products between two UTC days: their views per day as a chart (the top six) and every product of
 * the report in a table. The range and the count are in the query string.
 */
export default function ViewsReport() {
  const { query, search } = useLocation();
  const today = todayUtc();
  const to = DAY.test(query.get("to") ?? "") ? query.get("to")! : today;
  const from = DAY.test(query.get("from") ?? "") ? query.get("from")! : daysBefore(to, 29);
  const limit = LIMITS.includes(query.get("limit") ?? "") ? query.get("limit")! : "10";
  const report = useLoad(search || "default", () =>
    unwrap(api.GET("/api/v1/reports/product-views", { params: { query: { from, to, limit: Number(limit) } } })),
  );
  const data = report.data;
  const [draft, setDraft] = useState({ from, to });
  useEffect(() => setDraft({ from, to }), [from, to]);

  const days = useMemo(() => data?.items[0]?.series.map((p) => p.day) ?? [], [data]);
  const series = useMemo(
    () =>
      (data?.items ?? []).slice(0, MAX_LINES).map((item, i) => ({
        label: item.name,
        color: seriesColor(i),
        values: item.series.map((p) => p.views),
      })),
    [data],
  );

  return (
    <Page title="Product views">
      <form
        class="filters card"
        aria-label="Report range"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ from: draft.from, to: draft.to });
        }}
      >
        <div class="field">
          <label for="report-from">From (UTC day)</label>
          <input
            id="report-from"
            type="date"
            value={draft.from}
            max={draft.to}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="report-to">To (UTC day)</label>
          <input
            id="report-to"
            type="date"
            value={draft.to}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="report-limit">Products</label>
          <select
            id="report-limit"
            value={limit}
            onChange={(e) => setQuery({ limit: e.currentTarget.value === "10" ? null : e.currentTarget.value })}
          >
            {LIMITS.map((n) => (
              <option key={n} value={n}>
                Top {n}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <p class="hint">Anonymous reads of single products, counted through a queue; at most 366 days.</p>
      <ProblemBanner problem={report.problem} />
      <StatusLine
        loading={report.loading}
        what="the report"
        done={data ? `${data.items.length} products with views from ${data.from} to ${data.to}.` : null}
      />
      {data && data.items.length > 0 ? (
        <DayChart
          days={days}
          series={series}
          label={`Views per day of the ${series.length} most viewed products, ${data.from} to ${data.to}`}
        />
      ) : null}
      {data ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">
              Most viewed products from {data.from} to {data.to}
            </caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Rank
                </th>
                <th scope="col">Product</th>
                <th scope="col">Brand</th>
                <th scope="col" class="num">
                  Views
                </th>
                <th scope="col">Busiest day</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item, i) => {
                const busiest = item.series.reduce((best, p) => (p.views > best.views ? p : best), item.series[0]!);
                return (
                  <tr key={item.sku}>
                    <td class="num">{i + 1}</td>
                    <td>
                      <Link href={`/products/${item.sku}`}>{item.name}</Link>
                    </td>
                    <td>{item.brand}</td>
                    <td class="num">{item.total_views}</td>
                    <td>
                      {busiest.day} ({busiest.views})
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {data.items.length === 0 ? <p class="empty">No product was viewed in this range.</p> : null}
        </div>
      ) : null}
    </Page>
  );
}
