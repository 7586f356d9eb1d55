import type { Context } from "hono";
import { settings } from "../lib/settings";
import { sha256Hex } from "./tokens";

/** An address as numbers: 4 octets, or 8 hextets. */
type Parsed = { v4: number[] } | { v6: number[] };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

function parseV4(text: string): number[] | null {
  const match = IPV4.exec(text);
  if (!match) return null;
  const octets = match.slice(1).map(Number);
  return octets.every((n) => n <= 255) ? octets : null;
}

/** 8 hextets from any RFC 4291 text form: `::` compression, a dotted IPv4 tail, a zone (`%eth0`), any case. */
function parseV6(text: string): number[] | null {
  let rest = text.toLowerCase().replace(/%.*$/, "");
  let tail: number[] = [];
  const dotted = rest.lastIndexOf(":");
  if (dotted !== -1 && rest.includes(".", dotted)) {
    const v4 = parseV4(rest.slice(dotted + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    // Keep the colon before the IPv4 part when it closes a `::` ("::ffff:1.2.3.4", "::1.2.3.4").
    rest = rest.slice(0, rest.endsWith("::", dotted + 1) ? dotted + 1 : dotted);
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const hextets = (part: string | undefined) => (part ? part.split(":") : []);
  const head = hextets(halves[0]);
  const after = hextets(halves[1]);
  if (![...head, ...after].every((h) => HEXTET.test(h))) return null;
  const given = head.length + after.length + tail.length;
  const zeros = halves.length === 2 ? 8 - given : 0;
  if (halves.length === 2 ? zeros < 1 : given !== 8) return null;
  return [
    ...head.map((h) => Number.parseInt(h, 16)),
    ...new Array<number>(zeros).fill(0),
    ...after.map((h) => Number.parseInt(h, 16)),
    ...tail,
  ];
}

function parse(address: string): Parsed | null {
  const v4 = parseV4(address);
  if (v4) return { v4 };
  const v6 = address.includes(":") ? parseV6(address) : null;
  if (!v6) return null;
  // IPv4-mapped (::ffff:0:0/96): the IPv4 client it stands for.
  if (v6.slice(0, 5).every((h) => h === 0) && v6[5] === 0xffff) {
    return { v4: [v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff] };
  }
  return { v6 };
}

/**
 * The key one client's address is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 address as its IPv4
 * address), an IPv6 address as its /64 (`2001:db8:0:0::/64`). A /64 is the smallest block a site is given (RFC 6177)
 * and one host can use any of its 2^64 addresses, so keying on the whole IPv6 address would give one client 2^64
 * fresh buckets in every limit. Something that is not an IP address (never sent by Cloudflare) is kept as it is.
 */
export function addressKey(address: string): string {
  const parsed = parse(address.trim());
  if (!parsed) return address.trim();
  if ("v4" in parsed) return parsed.v4.join(".");
  return `${parsed.v6
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback: what `wrangler dev` reports for every local client. */
export function isLoopback(address: string): boolean {
  const parsed = parse(address.trim());
  if (!parsed) return false;
  if ("v4" in parsed) return parsed.v4[0] === 127;
  return parsed.v6.slice(0, 7).every((h) => h === 0) && parsed.v6[7] === 1;
}

/**
 * The client's address key (addressKey of `CF-Connecting-IP`) when the request is counted by address: always behind
 * Cloudflare (`ENVIRONMENT=production`), which sets the header to the connecting address and lets no client forge
 * it; and for any non-loopback address in local runs (tests send one). Null otherwise: no header, or a loopback
 * address in development, where `wrangler dev` reports every local client as 127.0.0.1 or ::1.
 */
export function addressKeyOf(c: Context): string | null {
  const address = c.req.header("cf-connecting-ip")?.trim();
  if (!address) return null;
  if (!settings(c.env as Env).production && isLoopback(address)) return null;
  return addressKey(address);
}

/**
 * The key a request's client is counted under in every per-client limit kept in D1 (sign-up, account creation,
 * sign-in per address, forgot-password) and the cursor session limiter: addressKeyOf() when there is one. Local
 * runs without one get one key per client instead: the `X-Client-Id` header when a script or test sends one, else
 * the `User-Agent`. So a browser, curl and a test run each get their own bucket instead of locking each other out.
 * Both headers are chosen by the client, which is why this applies only off Cloudflare.
 */
export async function clientKey(c: Context): Promise<string> {
  const address = addressKeyOf(c);
  if (address) return address;
  const id = c.req.header("x-client-id") ?? c.req.header("user-agent") ?? "";
  return `local-${(await sha256Hex(id)).slice(0, 16)}`;
}
