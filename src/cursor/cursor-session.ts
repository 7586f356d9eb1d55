import { DurableObject } from "cloudflare:workers";

/** One per browser session of the cursor page: kinematics, live WebSocket fan-out (filled in by the cursor issue). */
export class CursorSession extends DurableObject<Env> {}
