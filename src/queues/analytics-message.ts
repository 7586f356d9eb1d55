/**
 * A message on the `views` queue: `{ type, id, ... }`. Its own module so that the consumer (./analytics.ts) and the
 * handlers it dispatches to (./product-views.ts) both import it without importing each other.
 */
export type AnalyticsMessage = { type: string; id: string };
