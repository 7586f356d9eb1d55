import type { components } from "../../api/schema";
import { listMemory } from "../../ui/list";

export type CursorSession = components["schemas"]["CursorSession"];
export type CursorFrame = components["schemas"]["CursorFrame"];
export type StatsBucket = components["schemas"]["CursorStatsBucket"];

export const number = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

/** A distance in CSS pixels, with thousands separated: "12,345 px". */
export const distance = (px: number) => `${number.format(px)} px`;
/** A speed in CSS pixels a second: "812.5 px/s". */
export const speed = (pxPerSecond: number) => `${oneDecimal.format(pxPerSecond)} px/s`;

/** Bucket sizes the stats table offers (the API takes any from 1 s to 24 h). */
export const BUCKETS = [
  { value: "1s", label: "1 second" },
  { value: "10s", label: "10 seconds" },
  { value: "1m", label: "1 minute" },
  { value: "5m", label: "5 minutes" },
  { value: "1h", label: "1 hour" },
];

/** The list as the person last saw it (its page), for "Back to the sessions". */
export const sessionList = listMemory("/sessions", "the sessions");
