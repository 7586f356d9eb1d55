import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { publicOrigin, publicWebSocketUrl } from "../../../src/lib/public-origin";

/** The Worker sees the Host a client sent as the host of the request URL, so the forged host goes there too. */
async function createSession(host: string, headers: Record<string, string>) {
  const res = await exports.default.fetch(
    new Request(`http://${host}/api/v1/cursor/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ viewport: { width: 800, height: 600 } }),
    }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string; ws_url: string };
}

describe("ws_url never reflects the Host header", () => {
  it("is relative with no PUBLIC_ORIGIN, whatever Host and X-Forwarded-Host say", async () => {
    expect(env.PUBLIC_ORIGIN).toBe("");
    const body = await createSession("evil.example", { Host: "evil.example", "X-Forwarded-Host": "evil.example" });
    expect(body.ws_url).toBe(`/api/v1/cursor/sessions/${body.id}/live?token=${encodeURIComponent(body.token)}`);
    expect(body.ws_url).not.toContain("evil");
  });

  it("resolves against the page's own origin the way the page does", () => {
    const resolved = new URL("/api/v1/cursor/sessions/x/live?token=t", "https://backoffice.example.com/");
    expect(resolved.host).toBe("backoffice.example.com");
  });

  it("uses the configured origin, with the WebSocket scheme matching it", () => {
    const path = "/api/v1/cursor/sessions/abc/live?token=t%2B1";
    expect(publicWebSocketUrl({ PUBLIC_ORIGIN: "https://backoffice.example.com" }, path)).toBe(
      `wss://backoffice.example.com${path}`,
    );
    expect(publicWebSocketUrl({ PUBLIC_ORIGIN: "http://127.0.0.1:8787/" }, path)).toBe(`ws://127.0.0.1:8787${path}`);
    // Unset or blank: relative.
    for (const PUBLIC_ORIGIN of [undefined, "", "  "]) {
      expect(publicOrigin({ PUBLIC_ORIGIN })).toBeNull();
      expect(publicWebSocketUrl({ PUBLIC_ORIGIN }, path)).toBe(path);
    }
    // Not an http(s) origin: refused (the Worker answers 503 until it is fixed), never guessed.
    for (const PUBLIC_ORIGIN of ["not a url", "javascript:alert(1)"]) {
      expect(() => publicOrigin({ PUBLIC_ORIGIN })).toThrow("PUBLIC_ORIGIN is not an http(s) origin");
    }
  });
});
