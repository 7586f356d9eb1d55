import type { components } from "../../api/schema";
import { listMemory } from "../../ui/list";

export type Product = components["schemas"]["Product"];
export type HistoryEntry = components["schemas"]["ProductHistoryEntry"];

export const ORDERINGS = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "-updated_at", label: "Recently changed" },
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

/** The list URL the person came from, so "back to the products" keeps their filters. */
export const productList = listMemory("/products");
