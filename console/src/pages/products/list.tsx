import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, setQuery } from "../../router";
import { hasRole, useSession } from "../../session";
import { ExportButton } from "../../ui/export-button";
import { FilterForm, ListResults, TextFilter, useListQuery, useTypedFilters } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { Table } from "../../ui/table";
import { absoluteTime } from "../../ui/time";
import { ORDERINGS, type Product, price, productList } from "./model";

/**
 * The catalog for everyone signed in: name search, brand filter, price range, ordering and paging, all in the query
 * string (reload, back and forward and a shared link keep them). Admins also get "New product". The CSV export
 * takes the same filters.
 */
export default function ProductList() {
  const view = useListQuery({ memory: productList, orderings: ORDERINGS });
  const { query, search, ordering, limit, offset } = view;
  const { user } = useSession();
  const admin = hasRole(user, "admin");
  const applied = {
    q: query.get("q") ?? "",
    brand: query.get("brand") ?? "",
    min_price: query.get("min_price") ?? "",
    max_price: query.get("max_price") ?? "",
  };
  const typed = useTypedFilters(applied);
  // The export takes the list's filters and ordering, not its page.
  const filters = { ordering, ...Object.fromEntries(Object.entries(applied).filter(([, value]) => value)) };
  const list = useLoad(search, () =>
    unwrap(api.GET("/api/v1/products", { params: { query: { ...filters, limit, offset } } })),
  );
  const items = (list.data?.items ?? []) as Product[];

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
      <FilterForm label="Filter products" filters={typed} view={view}>
        <TextFilter filters={typed} name="q" label="Name contains" maxLength={200} />
        <TextFilter
          filters={typed}
          name="brand"
          label="Brand"
          maxLength={100}
          hint="The exact brand; or pick one in the list."
        />
        <TextFilter filters={typed} name="min_price" label="Price from" type="text" inputMode="decimal" />
        <TextFilter filters={typed} name="max_price" label="Price to" type="text" inputMode="decimal" />
      </FilterForm>

      <ListResults list={list} view={view} noun="products" label="Product list">
        <Table columns={["Name", "Brand", { label: "Price", num: true }, { label: "Views", num: true }, "Changed"]}>
          {items.map((product) => (
            <tr key={product.sku}>
              <td>
                <Link href={`/products/${product.sku}`}>{product.name}</Link>
              </td>
              <td>
                {product.brand === applied.brand ? (
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
        </Table>
      </ListResults>
    </Page>
  );
}
