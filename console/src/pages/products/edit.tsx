import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { navigate, useLocation } from "../../router";
import { hasRole, useSession } from "../../session";
import { useAction } from "../../ui/action";
import { DayChart, daysBefore, todayUtc } from "../../ui/day-chart";
import { ConfirmDialog } from "../../ui/dialog";
import { ActionForm, SaveButtons, TextField, useDraft } from "../../ui/field";
import { BackLink, offsetOf, QuerySelect, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { RecordPage } from "../../ui/record";
import { Facts, ScrollTable, Table } from "../../ui/table";
import { absoluteTime } from "../../ui/time";
import { type HistoryEntry, historyValue, type Product, price, productList } from "./model";

const draftOf = (p: Product | null) => ({
  name: p?.name ?? "",
  brand: p?.brand ?? "",
  price: p?.price.toFixed(2) ?? "",
});

/**
 * One product: its facts for everyone; for admins the form to change or delete it, its change history (who, when,
 * each field from → to) and its views per day as a chart and a table. `/products/new` creates one (admins).
 */
export default function ProductPage() {
  const { params } = useLocation();
  const sku = params.sku ?? null;
  return sku ? <Existing sku={sku} key={sku} /> : <ProductForm product={null} />;
}

function Existing({ sku }: { sku: string }) {
  const { user } = useSession();
  const product = useLoad(sku, () => unwrap(api.GET("/api/v1/products/{sku}", { params: { path: { sku } } })));
  return (
    <RecordPage record={product} title="Product" what="the product" back={productList}>
      {(data) =>
        hasRole(user, "admin") ? (
          <ProductForm product={data as Product}>
            <ViewsChart sku={data.sku} name={data.name} />
            <History sku={data.sku} />
          </ProductForm>
        ) : (
          <ProductFacts product={data as Product} />
        )
      }
    </RecordPage>
  );
}

/** What a member sees: the product, read-only. */
function ProductFacts({ product }: { product: Product }) {
  return (
    <Page title={product.name}>
      <BackLink to={productList} />
      <section class="card">
        <Facts
          rows={[
            ["Brand", product.brand],
            ["Price", price(product.price)],
            ["Views", product.views],
            ["Added", absoluteTime(product.created_at)],
            ["Changed", absoluteTime(product.updated_at)],
          ]}
        />
        <p class="muted small">Only admins may change products.</p>
      </section>
    </Page>
  );
}

function ProductForm({ product, children }: { product: Product | null; children?: ComponentChildren }) {
  const [saved, setSaved] = useState<Product | null>(product);
  const draft = useDraft(draftOf(product));
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [revision, setRevision] = useState(0);

  const save = useAction(async () => {
    // The price travels as a JSON number; text that is no number goes as it is, so the API names the problem.
    const { name, brand, price: typed } = draft.values;
    const amount = typed.trim() === "" ? Number.NaN : Number(typed);
    const body = { name, brand, price: Number.isNaN(amount) ? (typed as never) : amount };
    if (!saved) {
      const created = (await unwrap(api.POST("/api/v1/products", { body }))) as Product;
      navigate(`/products/${created.sku}`, { replace: true });
      return;
    }
    const updated = (await unwrap(
      api.PUT("/api/v1/products/{sku}", { params: { path: { sku: saved.sku } }, body }),
    )) as Product;
    setSaved(updated);
    draft.setValues(draftOf(updated));
    setRevision((n) => n + 1);
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/products/{sku}", { params: { path: { sku: saved!.sku } } }));
    setConfirmDelete(false);
    navigate(productList.url());
  });

  return (
    <Page title={saved ? saved.name : "New product"}>
      <BackLink to={productList} />
      <ActionForm
        class="card form"
        noValidate
        aria-label={saved ? "Change the product" : "New product"}
        action={save}
        done={saved ? "Saved. The other admins are told by mail." : null}
      >
        <TextField label="Name" {...draft.bind("name")} required maxLength={200} />
        <TextField label="Brand" {...draft.bind("brand")} required maxLength={100} />
        <TextField
          label="Price"
          {...draft.bind("price")}
          required
          inputMode="decimal"
          hint="0 to 1,000,000, at most two decimals."
        />
        <SaveButtons
          create={saved ? null : "Create product"}
          onDelete={saved ? () => setConfirmDelete(true) : undefined}
        />
        {saved ? (
          <p class="muted small">
            SKU <code>{saved.sku}</code> · {saved.views} views · changed {absoluteTime(saved.updated_at)}
          </p>
        ) : null}
      </ActionForm>
      {/* The history and chart read again after each save, so a change shows at once. */}
      <div key={revision}>{children}</div>
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this product?"
        confirmText="Delete product"
        danger
        action={remove}
        onClose={() => setConfirmDelete(false)}
      >
        <p>“{saved?.name}” leaves the catalog. Its history stays readable, and the other admins are told.</p>
      </ConfirmDialog>
    </Page>
  );
}

const RANGES = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
];

/** The product's anonymous views per UTC day, as a chart and a table; the range is in the query string (`views=`). */
function ViewsChart({ sku, name }: { sku: string; name: string }) {
  const { query } = useLocation();
  const span = Number(RANGES.find((r) => r.value === query.get("views"))?.value ?? "30");
  const to = todayUtc();
  const from = daysBefore(to, span - 1);
  const views = useLoad(`${sku}:${from}:${to}`, () =>
    unwrap(api.GET("/api/v1/reports/product-views/{sku}", { params: { path: { sku }, query: { from, to } } })),
  );
  const data = views.data;
  const series = useMemo(
    () => (data ? [{ label: "Views", color: "--series-1", values: data.series.map((p) => p.views) }] : []),
    [data],
  );
  const days = useMemo(() => data?.series.map((p) => p.day) ?? [], [data]);
  return (
    <section class="card" aria-labelledby="views-title">
      <div class="section-head">
        <h2 id="views-title">Views per day</h2>
        <QuerySelect label="Range" param="views" value={String(span)} fallback="30" options={RANGES} replace inline />
      </div>
      <ProblemBanner problem={views.problem} retry={views.reload} />
      <StatusLine
        loading={views.loading}
        what="views"
        done={data ? `${data.total_views} anonymous views from ${data.from} to ${data.to} (UTC).` : null}
      />
      {data ? (
        <>
          <DayChart
            days={days}
            series={series}
            label={`Anonymous views of ${name} per day, ${data.from} to ${data.to}`}
          />
          <details>
            <summary>The figures as a table</summary>
            <ScrollTable label="Views per day, as a table">
              <Table caption={`Views of ${name} per UTC day`} columns={["Day (UTC)", { label: "Views", num: true }]}>
                {data.series
                  .filter((p) => p.views > 0)
                  .map((p) => (
                    <tr key={p.day}>
                      <td>{p.day}</td>
                      <td class="num">{p.views}</td>
                    </tr>
                  ))}
              </Table>
              {data.total_views === 0 ? <p class="empty">No views in this range.</p> : null}
            </ScrollTable>
          </details>
        </>
      ) : null}
    </section>
  );
}

const HISTORY_PAGE = 10;
const ACTIONS: Record<HistoryEntry["action"], string> = { create: "Created", update: "Changed", delete: "Deleted" };

/** Every create, update and delete of the product, newest first: who, when, and each field from → to. */
function History({ sku }: { sku: string }) {
  const { query } = useLocation();
  const offset = offsetOf(query, "history");
  const history = useLoad(`${sku}:${offset}`, () =>
    unwrap(
      api.GET("/api/v1/products/{sku}/history", {
        params: { path: { sku }, query: { limit: HISTORY_PAGE, offset } },
      }),
    ),
  );
  const items = (history.data?.items ?? []) as HistoryEntry[];
  const total = history.data?.total ?? 0;
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">Change history</h2>
      <ProblemBanner problem={history.problem} retry={history.reload} />
      <StatusLine loading={history.loading} what="the history" />
      <ScrollTable label="Changes">
        <Table columns={["When", "Who", "What", "Changes"]}>
          {items.map((entry) => (
            <tr key={entry.id}>
              <td>
                <time dateTime={entry.created_at}>{absoluteTime(entry.created_at)}</time>
              </td>
              <td>{entry.actor.username ?? <span class="muted">a deleted user</span>}</td>
              <td>{ACTIONS[entry.action]}</td>
              <td>
                <ul class="changes">
                  {Object.entries(entry.changes).map(([field, change]) => (
                    <li key={field}>
                      <strong>{field}</strong>: {historyValue(field, change.from)} <span aria-hidden="true">→</span>
                      <span class="visually-hidden">changed to</span> {historyValue(field, change.to)}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </Table>
        {!history.loading && items.length === 0 && !history.problem ? (
          <p class="empty">No change recorded yet (products from the seed have none).</p>
        ) : null}
      </ScrollTable>
      {total > HISTORY_PAGE ? (
        <Pager
          offset={offset}
          limit={HISTORY_PAGE}
          total={total}
          label="History"
          param="history"
          previous="Newer changes"
          next="Older changes"
        />
      ) : null}
    </section>
  );
}
