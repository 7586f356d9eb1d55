// What `npm run postman` (scripts/postman.mjs) adds to the converted OpenAPI document: the order of the flow that
// Newman and Postman's Collection Runner follow, the values each step sends, the variables each step keeps for the
// next ones, and the operations that are not run unattended, with why. Every operation of the document is in
// exactly one of `flow` and `notRun`: test/e2e/postman.test.ts fails, naming it, when one is in neither.
//
// A step: { op, name?, note?, auth?, pre?, path?, query?, headers?, body?, set?, forget? }
//   op      the operationId.
//   name    the request's name when an operation runs twice (default: the operation's summary).
//   note    appended to the request's description in Postman: what this step does in the flow.
//   auth    the variable holding this request's Bearer token; default from its security (see below).
//   pre     variables the pre-request script makes, { name: "JavaScript expression" }.
//   path    path variables, { id: "{{task_id}}" }: every path variable of a step needs one.
//   query   query parameters to send (the others stay in the request, disabled).
//   headers headers to send, { "X-Console": "1", Origin: "{{base_url}}" } (Newman's cookie jar keeps `__Host-`
//           Secure cookies from http://127.0.0.1 and sends them back, so cookie sign-in can run in the flow too).
//   body    the JSON body (default: the document's example). raw("name") puts {{name}} in unquoted, for numbers.
//   set     variables the test script keeps from the response body: { name: "path.in.body" } or { name: { js } },
//           where js is an expression over `body`.
//   forget  variables the test script empties (sign-out).

/**
 * The Bearer token variable per security scheme. The first is the collection's auth, which requests inherit; an operation
 * open to anyone (security `{}`) is sent without a token.
 */
export const securitySchemes = {
  bearerAuth: "access_token",
  cursorSessionAuth: "cursor_session_token",
};

/** The environment file: where the API is and who signs in ("Sign in" sends these). */
export const environment = {
  name: "edge-backoffice (npm start)",
  values: [
    { key: "base_url", value: "http://127.0.0.1:8787" },
    { key: "email", value: "admin@example.com" },
    { key: "password", value: "admin-demo-password", type: "secret" },
  ],
};

export const RAW = Symbol("raw");
/** A number variable in a JSON body: written {{name}} without quotes. */
export const raw = (name) => ({ [RAW]: name });

const PASSWORD = "correct horse battery";
/** What the console sends with its cookie: the fixed header, and the Origin of the app itself. */
const CONSOLE = { "X-Console": "1", Origin: "{{base_url}}" };

export const flow = [
  { op: "getHealth" },
  { op: "getLiveness" },
  { op: "getAuthConfig" },
  {
    op: "login",
    note: "Sends {{email}} and {{password}} from the environment and keeps the token pair for every other request.",
    body: { email: "{{email}}", password: "{{password}}" },
    set: { access_token: "access_token", refresh_token: "refresh_token" },
  },
  { op: "getCurrentUser" },

  // Tasks: the first expires a minute ago, so its expiry notice (in-app and by mail) is written at once.
  {
    op: "createTask",
    note: "Expires a minute ago, so its expiry notice is written at once (see Notifications and the outbox).",
    pre: { expired_at: "new Date(Date.now() - 60_000).toISOString()" },
    body: { title: "Order paper (Postman)", description: "Two boxes of A4.", expires_at: "{{expired_at}}" },
    set: { task_id: "id" },
  },
  {
    op: "createTask",
    name: "Create a second task",
    note: "A second task for the bulk update and the bulk delete.",
    body: { title: "Water the plants (Postman)" },
    set: { second_task_id: "id" },
  },
  {
    op: "listTasks",
    note: "Filters: the title contains (Postman), status todo, newest first, three fields per task.",
    query: { q: "(Postman)", status: "todo", ordering: "-created_at", fields: "id,title,status", limit: "10" },
  },
  {
    op: "exportTasks",
    note: "The same filters as a CSV download: every matching task, not one page.",
    query: { q: "(Postman)", status: "todo", ordering: "-created_at", fields: "id,title,status" },
  },
  { op: "getTask", path: { id: "{{task_id}}" } },
  {
    op: "replaceTask",
    path: { id: "{{task_id}}" },
    body: {
      title: "Order paper (Postman)",
      description: "Two boxes of A4, one of A3.",
      status: "todo",
      expires_at: "{{expired_at}}",
    },
  },
  { op: "patchTask", path: { id: "{{task_id}}" }, body: { status: "in_progress" } },
  {
    op: "bulkUpdateTasks",
    body: {
      tasks: [
        { id: "{{task_id}}", status: "done" },
        { id: "{{second_task_id}}", status: "done" },
      ],
    },
  },
  { op: "bulkDeleteTasks", body: { ids: ["{{second_task_id}}"] } },
  { op: "deleteTask", path: { id: "{{task_id}}" } },

  // Notifications: the expiry notice of the first task.
  {
    op: "listNotifications",
    note: "Keeps the newest notification (the first task's expiry notice) for the next request.",
    query: { limit: "5" },
    set: { notification_id: "items.0.id" },
  },
  { op: "markNotificationRead", path: { id: "{{notification_id}}" } },

  // Products: anyone reads, the admin writes; the history outlives the product.
  {
    op: "listProducts",
    note: "Anonymous: no token, served from the edge cache.",
    query: { ordering: "price", fields: "sku,name,price", limit: "3" },
  },
  {
    op: "exportProducts",
    note: "Anonymous, like the list: the whole catalog as CSV, cheapest first.",
    query: { ordering: "price", fields: "sku,name,price" },
  },
  {
    op: "createProduct",
    body: { name: "Travel Mug (Postman)", brand: "Mugs", price: 7.5 },
    set: { sku: "sku" },
  },
  { op: "getProduct", note: "Anonymous: no token.", path: { sku: "{{sku}}" } },
  { op: "patchProduct", path: { sku: "{{sku}}" }, body: { price: 8.25 } },
  {
    op: "replaceProduct",
    path: { sku: "{{sku}}" },
    body: { name: "Travel Mug, large (Postman)", brand: "Mugs", price: 9.5 },
  },
  {
    op: "reportProductViewsSeries",
    note: "The product's views per day (the anonymous read above counts once the views queue has applied it).",
    path: { sku: "{{sku}}" },
  },
  { op: "deleteProduct", path: { sku: "{{sku}}" } },
  { op: "getProductHistory", note: "Still readable after the delete.", path: { sku: "{{sku}}" } },
  { op: "reportProductViews" },

  // Users: a member made, read, renamed and deleted by the admin.
  { op: "listUsers", query: { role: "member", ordering: "-created_at", limit: "5" } },
  {
    op: "createUser",
    pre: { new_username: "'pm-' + Date.now().toString(36)" },
    body: { email: "{{new_username}}@example.com", username: "{{new_username}}", password: PASSWORD, role: "member" },
    set: { user_id: "id" },
  },
  { op: "getUser", path: { id: "{{user_id}}" } },
  { op: "updateUser", path: { id: "{{user_id}}" }, body: { username: "{{new_username}}-renamed" } },
  { op: "deleteUser", path: { id: "{{user_id}}" } },

  // The outbox: by now it holds the expiry notice and the product mails.
  { op: "listOutbox", query: { limit: "5" }, set: { outbox_id: "items.0.id" } },
  { op: "getOutboxMail", path: { id: "{{outbox_id}}" } },

  // A cursor session: three points (0,0) (3,4) (6,8) one second apart, 10 px; its own token for its own routes.
  {
    op: "createCursorSession",
    note: "Keeps the session's id and token, and three event times one second apart from its server_time.",
    body: { viewport: { width: 1280, height: 800 }, label: "Postman" },
    set: {
      cursor_session_id: "id",
      cursor_session_token: "token",
      cursor_t0: { js: "body.server_time - 3000" },
      cursor_t1: { js: "body.server_time - 2000" },
      cursor_t2: { js: "body.server_time - 1000" },
    },
  },
  {
    op: "postCursorEvents",
    path: { id: "{{cursor_session_id}}" },
    body: {
      events: [
        { x: 0, y: 0, t: raw("cursor_t0") },
        { x: 3, y: 4, t: raw("cursor_t1") },
        { x: 6, y: 8, t: raw("cursor_t2") },
      ],
    },
  },
  { op: "getCursorStats", path: { id: "{{cursor_session_id}}" }, query: { bucket: "10s" } },
  { op: "listCursorEvents", path: { id: "{{cursor_session_id}}" }, query: { limit: "10" } },
  { op: "listCursorSessions", query: { limit: "5" } },
  { op: "getCursorSession", path: { id: "{{cursor_session_id}}" } },
  { op: "endCursorSession", path: { id: "{{cursor_session_id}}" } },
  { op: "getCursorArchive", note: "Written when the session ended.", path: { id: "{{cursor_session_id}}" } },
  { op: "listCursorArchives" },

  // Accounts: the reset mail, then a member of its own for the calls that act on the caller's account, so the run
  // never changes the signed-in admin's password or ends its other sessions.
  { op: "forgotPassword", body: { email: "{{email}}" } },
  {
    op: "register",
    note: "A member of the flow's own, for the requests that change the caller's account.",
    pre: { member_email: "'pm-member-' + Date.now().toString(36) + '@example.com'" },
    body: { email: "{{member_email}}", password: PASSWORD },
    set: { member_access_token: "access_token" },
  },
  {
    op: "resendVerificationEmail",
    note: "As the member from “Create a member account and sign in”.",
    auth: "member_access_token",
  },
  {
    op: "changePassword",
    note: "As the member: its other sessions end, and the answer is its new token pair.",
    auth: "member_access_token",
    body: { current_password: PASSWORD, new_password: `${PASSWORD} staple` },
    set: { member_access_token: "access_token" },
  },
  { op: "logoutAll", note: "As the member.", auth: "member_access_token" },

  // Back to the admin: rotate the pair, then end it.
  {
    op: "refreshTokens",
    body: { refresh_token: "{{refresh_token}}" },
    set: { access_token: "access_token", refresh_token: "refresh_token" },
  },
  {
    op: "logout",
    body: { refresh_token: "{{refresh_token}}" },
    forget: ["access_token", "refresh_token"],
  },

  // The console's cookie sign-in, as a browser does it: the cookie jar holds the `__Host-` cookies, every call sends
  // the console's header and the app's own Origin, and no answer carries a token.
  {
    op: "consoleRegister",
    pre: { console_email: "'pm-console-' + Date.now().toString(36) + '@example.com'" },
    headers: CONSOLE,
    body: { email: "{{console_email}}", password: PASSWORD },
  },
  { op: "consoleSignIn", headers: CONSOLE, body: { email: "{{email}}", password: "{{password}}" } },
  { op: "consoleRefresh", headers: CONSOLE },
  { op: "consoleSignOut", headers: CONSOLE },
];

/**
 * Operations in the collection that the flow does not run, and why. Each is still a request in its folder with the
 * same contract tests; a person runs it by hand.
 */
export const notRun = {
  verifyEmail: {
    why: "needs the single-use token mailed to the new address; paste it from the mail into the body",
  },
  resetPassword: {
    why: "needs the single-use token that “Mail a password-reset token” mails; paste it from the mail into the body",
  },
  watchCursorSession: {
    why: "a WebSocket upgrade: a collection run sends HTTP requests only (open it as a WebSocket request in Postman, or watch the capture page)",
    path: { id: "{{cursor_session_id}}" },
    query: { token: "{{cursor_session_token}}" },
  },
};
