import { fieldErrors } from "../lib/create-router";
import { PROBLEMS, problemResponse } from "../lib/errors";
import { errorFields, log } from "../lib/log";
import {
  type AckFrame,
  type ClientMessage,
  ClientMessageSchema,
  type HelloFrame,
  type IngestResult,
  MAX_BATCH_MESSAGE_BYTES,
  type NackFrame,
  type ServerFrame,
} from "./protocol";
import { refusalProblem } from "./refusal";

/** Sockets per session; one more is refused with a 429 rather than slowing every broadcast down. */
export const MAX_VIEWERS = 32;
/** A viewer (a socket that is not the session's own page) only asks for the totals now and then. */
export const MAX_VIEWER_MESSAGE_BYTES = 512;
/**
 * Messages a socket may send per window, batches the session accepts aside: a viewer's hellos, anything refused
 * (a resend of a batch the session has included: the page resends at most its 8 unacknowledged batches on a new
 * socket, while a loop of them parses like junk). One more closes the socket with 1008.
 */
export const MAX_VIEWER_MESSAGES = 20;
export const VIEWER_WINDOW_MS = 10_000;
/**
 * What a message the session's page sends costs from the session's event budget when it is refused as invalid (400
 * or 422): one event per this many bytes, about a JSON event's size. Parsing junk costs what parsing a batch does, so
 * junk cannot be sent faster than the events the budget allows; a socket whose junk the budget cannot pay is closed.
 */
export const REFUSED_BYTES_PER_EVENT = 128;
/** The header by which the Worker tells the object that a socket belongs to the session token's holder. */
export const WRITER_HEADER = "x-cursor-writer";

type Attachment = { windowStart: number; messages: number; writer: boolean; closed?: true };

type EventsMessage = Extract<ClientMessage, { type: "events" }>;

/** What the gateway asks of the session. */
export type SessionPort = {
  hello(): HelloFrame | null;
  events(message: EventsMessage, now: number): Promise<IngestResult>;
  /** Takes `events` from the session's event budget; false (nothing taken) when it cannot pay now. */
  charge(events: number, now: number): boolean;
};

type Parsed =
  | { ok: true; message: ClientMessage }
  | { ok: false; status: number; detail: string; errors?: NackFrame["errors"]; firstSeq: number | null };

/** A socket message, parsed like a REST body: JSON, then the closed message union. */
export function parseClientMessage(message: string | ArrayBuffer): Parsed {
  let body: unknown;
  try {
    if (typeof message !== "string") throw new TypeError("binary");
    body = JSON.parse(message);
  } catch {
    return { ok: false, status: PROBLEMS.malformed_json.status, detail: "Malformed JSON.", firstSeq: null };
  }
  const parsed = ClientMessageSchema.safeParse(body);
  if (parsed.success) return { ok: true, message: parsed.data };
  const firstSeq = (body as { first_seq?: unknown } | null)?.first_seq;
  return {
    ok: false,
    status: PROBLEMS.validation_failed.status,
    detail: "The message is invalid.",
    errors: fieldErrors(parsed.error),
    firstSeq: typeof firstSeq === "number" && Number.isInteger(firstSeq) ? firstSeq : null,
  };
}

/**
 * The session's WebSockets (hibernation API): the upgrade, every message a socket sends (parsed into the message
 * union and dispatched on its `type`), the per-socket limits, and every frame sent. Per-socket state rides on
 * serializeAttachment, so it survives the object's eviction while the sockets stay connected.
 */
export class SocketGateway {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly session: SessionPort,
  ) {}

  /** Accepts a socket (the Worker has checked the token and says in WRITER_HEADER whether it is the page's own). */
  accept(request: Request, hello: HelloFrame): Response {
    if (this.ctx.getWebSockets().length >= MAX_VIEWERS) {
      return problemResponse(
        "rate_limited",
        `At most ${MAX_VIEWERS} viewers per session.`,
        { instance: new URL(request.url).pathname },
        { headers: { "Retry-After": "10" } },
      );
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const attachment: Attachment = {
      windowStart: Date.now(),
      messages: 0,
      writer: request.headers.get(WRITER_HEADER) === "1",
    };
    server.serializeAttachment(attachment);
    server.send(JSON.stringify(hello));
    return new Response(null, { status: 101, webSocket: client });
  }

  async message(ws: WebSocket, message: string | ArrayBuffer, now = Date.now()): Promise<void> {
    const attachment = (ws.deserializeAttachment() as Attachment | null) ?? {
      windowStart: now,
      messages: 0,
      writer: false,
    };
    if (attachment.closed) return;
    // The limit is in bytes: a string's length counts UTF-16 units, so "é" × 300 would pass as 300 while being 600.
    const size = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (size > (attachment.writer ? MAX_BATCH_MESSAGE_BYTES : MAX_VIEWER_MESSAGE_BYTES)) {
      this.close(ws, attachment, 1009, "message too big");
      return;
    }
    const parsed = parseClientMessage(message);
    if (!parsed.ok) {
      if (!this.payForRefusal(ws, attachment, size, now)) return;
      this.send(ws, {
        type: "nack",
        first_seq: parsed.firstSeq,
        status: parsed.status,
        detail: parsed.detail,
        ...(parsed.errors ? { errors: parsed.errors } : {}),
      });
      return;
    }
    const request = parsed.message;
    switch (request.type) {
      case "hello": {
        if (!this.counted(ws, attachment, now)) return;
        const hello = this.session.hello();
        if (hello) this.sendText(ws, JSON.stringify(hello));
        return;
      }
      case "events": {
        const firstSeq = request.first_seq ?? null;
        if (!attachment.writer) {
          // A batch from a socket that is not the session's own (an admin watching): refused, nothing stored.
          if (!this.counted(ws, attachment, now)) return;
          const detail = "Only the session's own page may send events.";
          this.send(ws, { type: "nack", first_seq: firstSeq, status: PROBLEMS.forbidden.status, detail });
          return;
        }
        const result = await this.session.events(request, now);
        if (result.ok) {
          const { first_seq, last_seq, event_count, total_distance } = result;
          this.send(ws, { type: "ack", first_seq, last_seq, event_count, total_distance });
          return;
        }
        const problem = refusalProblem(result);
        const status = PROBLEMS[problem.code].status;
        const invalid = status === PROBLEMS.validation_failed.status;
        if (!(invalid ? this.payForRefusal(ws, attachment, size, now) : this.counted(ws, attachment, now))) return;
        const nack: NackFrame = { type: "nack", first_seq: firstSeq, status, detail: problem.detail };
        if (problem.options.errors) nack.errors = problem.options.errors;
        if ("next_seq" in result) nack.next_seq = result.next_seq;
        if (result.code === "rate_limited") nack.retry_after = result.retry_after;
        this.send(ws, nack);
        return;
      }
    }
  }

  /** Completes the closing handshake; newer runtimes do it themselves and this is then a no-op. */
  closed(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  error(error: unknown): void {
    log("warn", "cursor socket error", errorFields(error));
  }

  /** One serialization, sent to every socket in the same turn. */
  broadcast(frame: ServerFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) this.sendText(ws, text);
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  count(): number {
    return this.ctx.getWebSockets().length;
  }

  /** A refused invalid message from the page costs events from the session's budget; false: closed, unpaid. */
  private payForRefusal(ws: WebSocket, attachment: Attachment, size: number, now: number): boolean {
    if (attachment.writer && !this.session.charge(Math.ceil(size / REFUSED_BYTES_PER_EVENT), now)) {
      this.close(ws, attachment, 1008, "too many invalid messages");
      return false;
    }
    return this.counted(ws, attachment, now);
  }

  /** Counts a message in the socket's window; false: that was one too many, and the socket is closed. */
  private counted(ws: WebSocket, attachment: Attachment, now: number): boolean {
    if (now - attachment.windowStart > VIEWER_WINDOW_MS) {
      attachment.windowStart = now;
      attachment.messages = 0;
    }
    attachment.messages += 1;
    if (attachment.messages > MAX_VIEWER_MESSAGES) {
      this.close(ws, attachment, 1008, "too many messages");
      return false;
    }
    ws.serializeAttachment(attachment);
    return true;
  }

  private close(ws: WebSocket, attachment: Attachment, code: number, reason: string): void {
    // Messages already on their way are ignored: the socket is done.
    ws.serializeAttachment({ ...attachment, closed: true });
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  private send(ws: WebSocket, frame: AckFrame | NackFrame): void {
    this.sendText(ws, JSON.stringify(frame));
  }

  private sendText(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch {
      // a socket that is closing; its close event cleans up
    }
  }
}
