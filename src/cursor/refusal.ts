import type { ProblemCode, ProblemOptions } from "../lib/errors";
import type { IngestRefusal } from "./protocol";

/**
 * What a refused batch means for the client, the same over REST (a problem) and over the socket (a nack with the
 * status): the codes of the object mapped to a problem code, detail and extras.
 */
export function refusalProblem(result: IngestRefusal): { code: ProblemCode; detail: string; options: ProblemOptions } {
  switch (result.code) {
    case "duplicate":
      return {
        code: "conflict",
        detail: `Events from seq ${result.first_seq} were already accepted or are already waiting; the session expects ${result.next_seq} next.`,
        options: { extra: { next_seq: result.next_seq } },
      };
    case "gap":
      return {
        code: "conflict",
        detail: `The batches before seq ${result.first_seq} did not arrive in time; the session expects ${result.next_seq} next.`,
        options: { extra: { next_seq: result.next_seq } },
      };
    case "too_many_waiting":
      return {
        code: "rate_limited",
        detail: "Too many batches are waiting for earlier ones; send fewer at once.",
        options: { headers: { "Retry-After": "1" } },
      };
    case "rate_limited":
      return {
        code: "rate_limited",
        detail: "Too many events per second for this session; slow down.",
        options: { headers: { "Retry-After": String(result.retry_after) } },
      };
    case "session_full":
      return {
        code: "conflict",
        detail: `This session holds its maximum of ${result.cap} events (or their bytes); start a new session (POST /cursor/sessions).`,
        options: { extra: { max_events: result.cap } },
      };
    case "second_full":
      return {
        code: "validation_failed",
        detail: `At most ${result.cap} events within one second of event time.`,
        options: {
          errors: [{ path: `events.${result.index}.t`, message: `more than ${result.cap} events in this second` }],
        },
      };
    case "out_of_order":
      return {
        code: "validation_failed",
        detail: "The batch starts before the previous batch's last event.",
        options: {
          errors: [
            { path: `events.${result.index}.t`, message: `t must not be before ${result.last_t} (the last event's t)` },
          ],
        },
      };
    case "outside_life":
      return {
        code: "validation_failed",
        detail: "An event's time falls outside the session's life.",
        options: {
          errors: [
            {
              path: `events.${result.index}.t`,
              message: `t must be within the session's life: from ${result.from} (its creation, less the clock skew) to ${result.to} (now, plus the skew)`,
            },
          ],
        },
      };
    case "ended":
      return { code: "conflict", detail: "The session has ended; start a new one.", options: {} };
    default:
      return { code: "not_found", detail: "No cursor session with that id.", options: {} };
  }
}
