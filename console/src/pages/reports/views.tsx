import { useMemo } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, useLocation } from "../../router";
import { DayChart, daysBefore, seriesColor, todayUtc } from "../../ui/day-chart";
import { FilterForm, QuerySelect, StatusLine, TextFilter, useTypedFilters } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { Table } from "../../ui/table";
import { plural } from "../../ui/words";

const LIMITS = ["5", "10", "20"].map((n) => ({ value: n, label: `Top ${n}` }));
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
  const limit = LIMITS.find((l) => l.value === query.get("limit"))?.value ?? "10";
  const report = useLoad(search || "default", () =>
    unwrap(api.GET("/api/v1/reports/product-views", { params: { query: { from, to, limit: Number(limit) } } })),
  );
  const data = report.data;
  const typed = useTypedFilters({ from, to });

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
      <FilterForm label="Report range" filters={typed} submitText="Show">
        <TextFilter filters={typed} name="from" label="From (UTC day)" type="date" max={typed.draft.to} />
        <TextFilter filters={typed} name="to" label="To (UTC day)" type="date" />
        <QuerySelect label="Products" param="limit" value={limit} fallback="10" options={LIMITS} />
      </FilterForm>
      <p class="hint">Anonymous reads of single products, counted through a queue; at most 366 days.</p>
      <ProblemBanner problem={report.problem} retry={report.reload} />
      <StatusLine
        loading={report.loading}
        what="the report"
        done={data ? `${plural(data.items.length, "product")} with views from ${data.from} to ${data.to}.` : null}
      />
      {data && data.items.length > 0 ? (
        <DayChart
          days={days}
          series={series}
          legend
          label={`Views per day of the ${plural(series.length, "most viewed product")}, ${data.from} to ${data.to}`}
        />
      ) : null}
      {data ? (
        <div class="table-wrap">
          <Table
            caption={`Most viewed products from ${data.from} to ${data.to}`}
            columns={[{ label: "Rank", num: true }, "Product", "Brand", { label: "Views", num: true }, "Busiest day"]}
          >
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
          </Table>
          {data.items.length === 0 ? <p class="empty">No product was viewed in this range.</p> : null}
        </div>
      ) : null}
    </Page>
  );
}
