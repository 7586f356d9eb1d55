import { useEffect, useState } from "preact/hooks";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, setQuery, useLocation } from "../../router";
import { hasRole, useSession } from "../../session";
import { ExportButton } from "../../ui/export-button";
import { FilterActions, OrderingSelect, offsetOf, StatusLine } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { Pager } from "../../ui/pager";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime } from "../../ui/time";
import { ORDERINGS, type Product, price, productList } from "./model";

const PAGE_SIZES = ["20", "50", "100"];
const DEFAULT_ORDERING = "-created_at";

/**
 * The catalog for everyone signed in: name search, brand filter, price range, ordering and paging, all in the query
 * string (reload, back and forward and a shared link keep them). Admins also get "New product". The CSV export
 * takes the same filters.
 */
export default function ProductList() {
  const { query, path, search } = useLocation();
  const { user } = useSession();
  const admin = hasRole(user, "admin");
  const q = query.get("q") ?? "";
  const brand = query.get("brand") ?? "";
  const minPrice = query.get("min_price") ?? "";
  const maxPrice = query.get("max_price") ?? "";
  const ordering = query.get("ordering") ?? DEFAULT_ORDERING;
  const limit = PAGE_SIZES.includes(query.get("limit") ?? "") ? Number(query.get("limit")) : 20;
  const offset = offsetOf(query);
  useEffect(() => productList.remember(`${path}${search}`), [path, search]);

  const filters = {
    ordering,
    ...(q ? { q } : {}),
    ...(brand ? { brand } : {}),
    ...(minPrice ? { min_price: minPrice } : {}),
    ...(maxPrice ? { max_price: maxPrice } : {}),
  };
  const list = useLoad(search, () =>
    unwrap(api.GET("/api/v1/products", { params: { query: { ...filters, limit, offset } } })),
  );
  const items = (list.data?.items ?? []) as Product[];

  const [draft, setDraft] = useState({ q, brand, min: minPrice, max: maxPrice });
  useEffect(() => setDraft({ q, brand, min: minPrice, max: maxPrice }), [q, brand, minPrice, maxPrice]);
  const edit = (key: keyof typeof draft) => (event: Event) =>
    setDraft({ ...draft, [key]: (event.currentTarget as HTMLInputElement).value });

  return (
    <Page
      title="Products"
      actions={
        <>
          <ExportButton list="products" query={filters} total={list.data?.total} />
          {admin ? (
            <Link class="button primary" href="/products/new">
              New product
            </Link>
          ) : null}
        </>
      }
    >
      <form
        class="filters card"
        aria-label="Filter products"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({
            q: draft.q.trim(),
            brand: draft.brand.trim(),
            min_price: draft.min.trim(),
            max_price: draft.max.trim(),
            offset: null,
          });
        }}
      >
        <div class="field">
          <label for="filter-q">Name contains</label>
          <input id="filter-q" type="search" maxLength={200} value={draft.q} onInput={edit("q")} />
        </div>
        <div class="field">
          <label for="filter-brand">Brand</label>
          <input
            id="filter-brand"
            type="search"
            maxLength={100}
            value={draft.brand}
            onInput={edit("brand")}
            aria-describedby="filter-brand-hint"
          />
          <p class="hint" id="filter-brand-hint">
            The exact brand; or pick one in the list.
          </p>
        </div>
        <div class="field">
          <label for="filter-min">Price from</label>
          <input id="filter-min" inputMode="decimal" value={draft.min} onInput={edit("min")} />
        </div>
        <div class="field">
          <label for="filter-max">Price to</label>
          <input id="filter-max" inputMode="decimal" value={draft.max} onInput={edit("max")} />
        </div>
        <OrderingSelect value={ordering} fallback={DEFAULT_ORDERING} options={ORDERINGS} />
        <div class="field">
          <label for="filter-limit">Per page</label>
          <select
            id="filter-limit"
            value={String(limit)}
            onChange={(e) =>
              setQuery({ limit: e.currentTarget.value === "20" ? null : e.currentTarget.value, offset: null })
            }
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <FilterActions filtered={search !== ""} clearHref="/products" />
      </form>

      <ProblemBanner problem={list.problem} />
      <StatusLine loading={list.loading} what="products" />

      <div class="table-wrap" aria-busy={list.loading}>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Brand</th>
              <th scope="col" class="num">
                Price
              </th>
              <th scope="col" class="num">
                Views
              </th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {items.map((product) => (
              <tr key={product.sku}>
                <td>
                  <Link href={`/products/${product.sku}`}>{product.name}</Link>
                </td>
                <td>
                  {product.brand === brand ? (
                    product.brand
                  ) : (
                    <button
                      type="button"
                      class="link"
                      onClick={() => setQuery({ brand: product.brand, offset: null })}
                      aria-label={`Only ${product.brand}`}
                    >
                      {product.brand}
                    </button>
                  )}
                </td>
                <td class="num">{price(product.price)}</td>
                <td class="num">{product.views}</td>
                <td>
                  <time dateTime={product.updated_at}>{absoluteTime(product.updated_at)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!list.loading && items.length === 0 && !list.problem ? <p class="empty">No products match.</p> : null}
      </div>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} label="Product list" /> : null}
    </Page>
  );
}
