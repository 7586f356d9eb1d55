import type { components } from "../../api/schema";
import { BY_AGE, listMemory, RECENTLY_CHANGED } from "../../ui/list";

export type Product = components["schemas"]["Product"];
export type HistoryEntry = components["schemas"]["ProductHistoryEntry"];

export const ORDERINGS = [
  ...BY_AGE,
  RECENTLY_CHANGED,
  { value: "name", label: "Name A–Z" },
  { value: "-name", label: "Name Z–A" },
  { value: "price", label: "Cheapest first" },
  { value: "-price", label: "Dearest first" },
  { value: "-views", label: "Most viewed" },
] as const;

const money = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** A price as the catalog shows it: two decimals. */
export const price = (value: number) => money.format(value);

/** A history value in words: prices with two decimals, absent values as a dash. */
export function historyValue(field: string, value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (field === "price" && typeof value === "number") return price(value);
  return String(value);
}

/** The list as the person last saw it, so "Back to the products" keeps their filters. */
export const productList = listMemory("/products", "the products");
