import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, navigate, setQuery, useLocation } from "../../router";
import { hasRole, useSession } from "../../session";
import { useAction } from "../../ui/action";
import { DayChart, daysBefore, todayUtc } from "../../ui/day-chart";
import { ConfirmDialog } from "../../ui/dialog";
import { Field, Submit } from "../../ui/field";
import { StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { ScrollTable } from "../../ui/scroll-table";
import { absoluteTime } from "../../ui/time";
import { type HistoryEntry, historyValue, type Product, price, productList } from "./model";

const FIELDS = ["name", "brand", "price"];
type Draft = { name: string; brand: string; price: string };
const EMPTY: Draft = { name: "", brand: "", price: "" };
const draftOf = (p: Product): Draft => ({ name: p.name, brand: p.brand, price: p.price.toFixed(2) });

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
  const loaded = useLoad(sku, () => unwrap(api.GET("/api/v1/products/{sku}", { params: { path: { sku } } })));
  const product = loaded.data as Product | undefined;
  if (!product) {
    return (
      <Page title="Product">
        <ProblemBanner problem={loaded.problem} />
        {loaded.loading ? (
          <p class="loading" role="status">
            <span class="spinner" aria-hidden="true" />
            Loading the product…
          </p>
        ) : null}
        <p>
          <Link href={productList.url()}>Back to the products</Link>
        </p>
      </Page>
    );
  }
  if (!hasRole(user, "admin")) return <ProductFacts product={product} />;
  return (
    <ProductForm product={product}>
      <ViewsChart sku={product.sku} name={product.name} />
      <History sku={product.sku} />
    </ProductForm>
  );
}

/** What a member sees: the product, read-only. */
function ProductFacts({ product }: { product: Product }) {
  return (
    <Page title={product.name}>
      <p>
        <Link href={productList.url()}>Back to the products</Link>
      </p>
      <section class="card">
        <dl class="facts">
          <dt>Brand</dt>
          <dd>{product.brand}</dd>
          <dt>Price</dt>
          <dd>{price(product.price)}</dd>
          <dt>Views</dt>
          <dd>{product.views}</dd>
          <dt>Added</dt>
          <dd>{absoluteTime(product.created_at)}</dd>
          <dt>Changed</dt>
          <dd>{absoluteTime(product.updated_at)}</dd>
        </dl>
        <p class="muted small">Only admins may change products.</p>
      </section>
    </Page>
  );
}

function ProductForm({ product, children }: { product: Product | null; children?: ComponentChildren }) {
  const [saved, setSaved] = useState<Product | null>(product);
  const [draft, setDraft] = useState<Draft>(product ? draftOf(product) : EMPTY);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [revision, setRevision] = useState(0);
  const set = (key: keyof Draft) => (event: Event) =>
    setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value });

  const save = useAction(async () => {
    // The price travels as a JSON number; text that is no number goes as it is, so the API names the problem.
    const amount = draft.price.trim() === "" ? Number.NaN : Number(draft.price);
    const body = {
      name: draft.name,
      brand: draft.brand,
      price: Number.isNaN(amount) ? (draft.price as never) : amount,
    };
    if (!saved) {
      const created = (await unwrap(api.POST("/api/v1/products", { body }))) as Product;
      navigate(`/products/${created.sku}`, { replace: true });
      return;
    }
    const updated = (await unwrap(
      api.PUT("/api/v1/products/{sku}", { params: { path: { sku: saved.sku } }, body }),
    )) as Product;
    setSaved(updated);
    setDraft(draftOf(updated));
    setRevision((n) => n + 1);
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/api/v1/products/{sku}", { params: { path: { sku: saved!.sku } } }));
    setConfirmDelete(false);
    navigate(productList.url());
  });

  return (
    <Page title={saved ? saved.name : "New product"}>
      <p>
        <Link href={productList.url()}>Back to the products</Link>
      </p>
      <form
        class="card form"
        noValidate
        aria-label={saved ? "Change the product" : "New product"}
        onSubmit={(event) => {
          event.preventDefault();
          void save.run();
        }}
      >
        {save.succeeded && saved ? (
          <p class="banner banner-ok" role="status">
            Saved. The other admins are told by mail.
          </p>
        ) : null}
        <ProblemBanner problem={save.problem} fields={FIELDS} />
        <Field label="Name" name="name" problem={save.problem}>
          {(props) => <input {...props} required maxLength={200} value={draft.name} onInput={set("name")} />}
        </Field>
        <Field label="Brand" name="brand" problem={save.problem}>
          {(props) => <input {...props} required maxLength={100} value={draft.brand} onInput={set("brand")} />}
        </Field>
        <Field label="Price" name="price" problem={save.problem} hint="0 to 1,000,000, at most two decimals.">
          {(props) => <input {...props} required inputMode="decimal" value={draft.price} onInput={set("price")} />}
        </Field>
        <div class="form-actions">
          <Submit busy={save.busy} busyText={saved ? "Saving…" : "Creating…"}>
            {saved ? "Save" : "Create product"}
          </Submit>
          {saved ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          ) : null}
        </div>
        {saved ? (
          <p class="muted small">
            SKU <code>{saved.sku}</code> · {saved.views} views · changed {absoluteTime(saved.updated_at)}
          </p>
        ) : null}
      </form>
      {/* The history and chart read again after each save, so a change shows at once. */}
      <div key={revision}>{children}</div>
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this product?"
        confirmText="Delete product"
        danger
        busy={remove.busy}
        onConfirm={() => void remove.run()}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>“{saved?.name}” leaves the catalog. Its history stays readable, and the other admins are told.</p>
        <ProblemBanner problem={remove.problem} />
      </ConfirmDialog>
    </Page>
  );
}

const RANGES = [
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
];

/** The product's anonymous views per UTC day, as a chart and a table; the range is in the query string (`views=`). */
function ViewsChart({ sku, name }: { sku: string; name: string }) {
  const { query } = useLocation();
  const span = RANGES.find((r) => String(r.days) === query.get("views"))?.days ?? 30;
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
        <div class="field inline">
          <label for="views-range">Range</label>
          <select
            id="views-range"
            value={String(span)}
            onChange={(e) =>
              setQuery({ views: e.currentTarget.value === "30" ? null : e.currentTarget.value }, { replace: true })
            }
          >
            {RANGES.map((r) => (
              <option key={r.days} value={String(r.days)}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ProblemBanner problem={views.problem} />
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
              <table class="table">
                <caption class="visually-hidden">Views of {name} per UTC day</caption>
                <thead>
                  <tr>
                    <th scope="col">Day (UTC)</th>
                    <th scope="col" class="num">
                      Views
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.series
                    .filter((p) => p.views > 0)
                    .map((p) => (
                      <tr key={p.day}>
                        <td>{p.day}</td>
                        <td class="num">{p.views}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
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
  const offset = Math.max(0, Number.parseInt(query.get("history") ?? "0", 10) || 0);
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
      <ProblemBanner problem={history.problem} />
      <StatusLine loading={history.loading} what="the history" />
      <ScrollTable label="Changes">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
        {!history.loading && items.length === 0 && !history.problem ? (
          <p class="empty">No change recorded yet (products from the seed have none).</p>
        ) : null}
      </ScrollTable>
      {total > HISTORY_PAGE ? <HistoryPager offset={offset} total={total} /> : null}
    </section>
  );
}

/** Previous and next pages of the history, kept in the query string as `history=` beside the list's own keys. */
function HistoryPager({ offset, total }: { offset: number; total: number }) {
  const to = (n: number) => () => setQuery({ history: n > 0 ? String(n) : null }, { replace: true });
  return (
    <nav class="pager" aria-label="History pages">
      <span>
        {offset + 1}–{Math.min(offset + HISTORY_PAGE, total)} of {total}
      </span>
      {offset > 0 ? (
        <button type="button" class="link" onClick={to(Math.max(0, offset - HISTORY_PAGE))}>
          Newer changes
        </button>
      ) : null}
      {offset + HISTORY_PAGE < total ? (
        <button type="button" class="link" onClick={to(offset + HISTORY_PAGE)}>
          Older changes
        </button>
      ) : null}
    </nav>
  );
}
