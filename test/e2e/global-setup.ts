import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    /** The MailChannels stand-in: GET {mailUrl}/mails lists every mail the app posted to it. */
    mailUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

let child: ChildProcess | undefined;
let stateDir: string | undefined;
let mailServer: Server | undefined;

export const STAND_IN_API_KEY = "e2e-stand-in-key";

/**
 * A MailChannels stand-in on 127.0.0.1: records every POST /tx/v1/send (answering 202 like MailChannels) and lists
 * them at GET /mails, so an e2e test can read the mail a user would get.
 */
async function startMailStandIn(): Promise<string> {
  const mails: { api_key: string | undefined; body: unknown }[] = [];
  mailServer = createHttpServer((req, res) => {
    if (req.method === "POST" && req.url === "/tx/v1/send") {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        mails.push({ api_key: req.headers["x-api-key"] as string | undefined, body: JSON.parse(body) });
        res.writeHead(202).end();
      });
      return;
    }
    if (req.method === "GET" && req.url === "/mails") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(mails));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => mailServer!.listen(0, "127.0.0.1", resolve));
  const address = mailServer.address();
  if (typeof address !== "object" || !address) throw new Error("the mail stand-in has no port");
  return `http://127.0.0.1:${address.port}`;
}

/** Starts `npm start` on a free 127.0.0.1 port with a fresh local D1, and waits (bounded) for /health. */
export default async function setup(project: TestProject) {
  const port = await freePort();
  const mailUrl = await startMailStandIn();
  stateDir = mkdtempSync(join(tmpdir(), "edge-backoffice-e2e-"));
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = "";
  child = spawn("npm", ["start"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      PERSIST_TO: stateDir,
      WRANGLER_SEND_METRICS: "false",
      // npm start passes these to wrangler dev: mail goes to the stand-in instead of MailChannels.
      MAILCHANNELS_API_URL: mailUrl,
      MAILCHANNELS_API_KEY: STAND_IN_API_KEY,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the app did not become healthy in 90 s:\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  project.provide("baseUrl", baseUrl);
  project.provide("mailUrl", mailUrl);

  return async () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 500));
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    mailServer?.close();
  };
}
