/**
 * Money crosses the API as a JSON number with at most two decimal places and lives in D1 as integer cents, so sums
 * and comparisons in SQL are exact. Floats never do arithmetic here: a price is validated on its shortest decimal
 * representation (what the client wrote) and only then scaled.
 */

export const MAX_PRICE = 1_000_000;
export const MAX_PRICE_CENTS = MAX_PRICE * 100;

/**
 * True when `value` is a finite number within [0, MAX_PRICE] written with at most two decimals. `String(n)` is the
 * shortest text that round-trips to the same double, so 19.99 stays "19.99" while 1.005 stays "1.005" (rejected)
 * and 1e-7 becomes "1e-7" (rejected); every two-decimal number up to a million has at most 9 significant digits,
 * far inside the 15 a double always reproduces.
 */
export function isValidPrice(value: number): boolean {
  if (!Number.isFinite(value) || value < 0 || value > MAX_PRICE) return false;
  return /^\d+(\.\d{1,2})?$/.test(String(value));
}

/** A validated price to integer cents (Math.round absorbs the binary error in e.g. 0.29 * 100 = 28.999999999999996). */
export function priceToCents(value: number): number {
  if (!isValidPrice(value)) throw new RangeError(`not a valid price: ${value}`);
  return Math.round(value * 100) + 0; // + 0 turns -0 into 0
}

/** Integer cents to the API's number (12.5 for 1250; division of an integer by 100 is exact to two places). */
export function centsToPrice(cents: number): number {
  return cents / 100;
}

/** Integer cents to a fixed two-place string for people ("12.50"), e.g. in mails. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A query-string price (`min_price=9.99`) to cents, or null when it is not a valid price. */
export function parsePriceParam(text: string): number | null {
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(text)) return null;
  const value = Number(text);
  return isValidPrice(value) ? priceToCents(value) : null;
}
