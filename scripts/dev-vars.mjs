// `npm run dev` runs this first: `wrangler dev` needs the local secrets in .dev.vars (made once from the example).
import { ensureDevVars } from "./lib.mjs";

ensureDevVars();
