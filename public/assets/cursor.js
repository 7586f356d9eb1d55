// The live cursor page: samples the pointer once per animation frame, sends a batch every 100 ms (or 50 events) over
// the session's WebSocket (acknowledged per batch; POST with the session token while the socket is down), and draws
// what the session's Durable Object sends back over that socket.
// A same-origin module (the CSP allows no inline script); uPlot is vendored from npm into /vendor, and the chart is
// cursor-chart.js, the one the console's live session page draws too.
import { cursorChart, IDLE_MS } from "./cursor-chart.js";

(() => {
  const API = "/api/v1/cursor/sessions";
  const MAX_PENDING = 20_000; // kept while the server is unreachable (~5 minutes of fast movement)
  const MAX_BATCH = 1000;
  const MAX_IN_FLIGHT = 8; // batches sent over the socket and not yet acknowledged (backpressure)
  const MAX_BUFFERED = 256 * 1024; // bytes the socket may hold unsent before the page waits
  const ACK_TIMEOUT_MS = 5_000; // a batch unacknowledged this long means a dead socket: reconnect and resend
  const PING_MS = 20_000;
  const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

  const $ = (id) => document.getElementById(id);
  const el = {
    speed: $("speed"),
    peak: $("peak"),
    distance: $("distance"),
    distanceHuman: $("distance-human"),
    events: $("events"),
    rtt: $("rtt"),
    viewers: $("viewers"),
    status: $("status-text"),
    banner: $("banner"),
    bannerText: $("banner-text"),
    retry: $("retry"),
    sessionId: $("session-id"),
    trail: $("trail"),
    pad: $("pad"),
  };

  const fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const fmt1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

  const s = {
    session: null, // { id, token, ws_url, server_time, batch_interval_ms, batch_max_events }
    clockBase: 0,
    perfBase: 0,
    pending: [],
    nextSeq: 0, // the seq the session gives the next event: sent as first_seq, so a resent batch is never stored twice
    unacked: [], // batches sent over the socket, { first_seq, events, sentAt }, oldest first, until acked
    inflight: false,
    lastSentAt: 0,
    retryAt: 0,
    postFailures: 0,
    pointer: null, // latest pointer position, sampled on the next frame
    sampled: null, // last sampled position
    ws: null,
    wsFailures: 0,
    wsTimer: 0,
    pingTimer: 0,
    pongDue: 0,
    hidden: document.hidden,
    starting: false,
    totals: { distance: 0, events: 0, t: 0 },
    speed: 0,
    peak: 0,
    lastFrameAt: 0,
    shown: { speed: 0, distance: 0, events: 0 },
    chart: null, // cursorChart(): speed and distance over the last minute
  };

  // ---- clock: the server's, advanced by the monotonic clock (immune to the user's clock being off) ----
  const now = () => Math.round(s.clockBase + (performance.now() - s.perfBase));

  // ---- status and banner ----
  function setState(state, text) {
    document.body.dataset.state = state;
    el.status.textContent = text;
  }

  function showBanner(text) {
    el.bannerText.textContent = text;
    el.banner.hidden = false;
  }

  function hideBanner() {
    el.banner.hidden = true;
  }

  function backoff(failures) {
    const base = Math.min(10_000, 500 * 2 ** Math.max(0, failures - 1));
    return base / 2 + Math.random() * (base / 2);
  }

  function offline(delayMs) {
    const seconds = Math.max(1, Math.round(delayMs / 1000));
    const kept = s.pending.length
      ? ` ${fmt.format(s.pending.length)} movements are kept and sent when it is back.`
      : "";
    showBanner(`Retrying in ${seconds} s.${kept}`);
    setState("offline", "Offline");
  }

  // ---- session ----
  async function startSession() {
    if (s.starting) return;
    s.starting = true;
    closeSocket();
    for (let failures = 0; ; failures++) {
      try {
        const res = await fetch(API, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ viewport: { width: innerWidth, height: innerHeight } }),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const session = await res.json();
        s.session = session;
        s.clockBase = session.server_time;
        s.perfBase = performance.now();
        s.pending = [];
        s.nextSeq = 0;
        s.unacked = [];
        s.sampled = null;
        s.totals = { distance: 0, events: 0, t: 0 };
        s.peak = 0;
        s.chart?.reset();
        el.sessionId.textContent = session.id.slice(0, 8);
        el.sessionId.title = session.id;
        s.postFailures = 0;
        hideBanner();
        s.starting = false;
        connect();
        return;
      } catch {
        const delay = backoff(failures + 1);
        offline(delay);
        await sleep(delay);
      }
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---- sampling: at most one point per animation frame ----
  function onPointer(event) {
    if (event.pointerType === "touch" && !el.pad.contains(event.target)) return;
    // Hundredths of a CSS pixel: finer than any screen, and what the session packs smallest (a zoomed page reports
    // coordinates like 412.7272796630859).
    s.pointer = { x: Math.round(event.clientX * 100) / 100, y: Math.round(event.clientY * 100) / 100 };
  }
  addEventListener("pointermove", onPointer, { passive: true });
  addEventListener("pointerdown", onPointer, { passive: true });

  function sample() {
    const p = s.pointer;
    if (!p || !s.session || s.hidden) return;
    if (s.sampled && s.sampled.x === p.x && s.sampled.y === p.y) return;
    s.sampled = p;
    const point = { x: p.x, y: p.y, t: now() };
    s.pending.push(point);
    if (s.pending.length > MAX_PENDING) s.pending.splice(0, s.pending.length - MAX_PENDING);
    trailPush(point);
  }

  // ---- sending: over the socket when it is open (no request per batch), else one POST at a time ----
  function maybeSend() {
    if (s.unacked.length > 0 && performance.now() - s.unacked[0].sentAt > ACK_TIMEOUT_MS) {
      s.unacked[0].sentAt = performance.now();
      s.ws?.close(4003, "no ack");
    }
    if (!s.session || s.inflight || s.starting || s.pending.length === 0) return;
    const t = performance.now();
    if (t < s.retryAt) return;
    const due = t - s.lastSentAt >= s.session.batch_interval_ms || s.pending.length >= s.session.batch_max_events;
    if (!due && !s.hidden) return;
    if (s.ws?.readyState === WebSocket.OPEN && !s.hidden) sendOverSocket(s.ws);
    // POST only while nothing waits for an ack: seqs then follow what the session has confirmed.
    else if (s.unacked.length === 0) send();
  }

  /**
   * Each batch carries first_seq; the session acks it (or nacks it with the HTTP status the REST route would give).
   * At most MAX_IN_FLIGHT unacknowledged batches and MAX_BUFFERED bytes queued in the socket: past that, movements
   * wait in `pending` (and the next batch is larger). Unacknowledged batches are resent, in order, on reconnect; the
   * session refuses the ones it already has (409 with next_seq), so nothing is stored twice.
   */
  function sendOverSocket(ws) {
    if (s.unacked.length >= MAX_IN_FLIGHT || ws.bufferedAmount > MAX_BUFFERED) return;
    const events = s.pending.splice(0, MAX_BATCH);
    const batch = { first_seq: s.nextSeq, events, sentAt: performance.now() };
    s.nextSeq += events.length;
    s.unacked.push(batch);
    s.lastSentAt = batch.sentAt;
    ws.send(JSON.stringify({ type: "events", first_seq: batch.first_seq, events }));
  }

  function resendUnacked(ws) {
    for (const batch of s.unacked) {
      batch.sentAt = performance.now();
      ws.send(JSON.stringify({ type: "events", first_seq: batch.first_seq, events: batch.events }));
    }
  }

  function onAck(ack) {
    const i = s.unacked.findIndex((b) => b.first_seq === ack.first_seq);
    if (i >= 0) el.rtt.textContent = fmt.format(performance.now() - s.unacked[i].sentAt);
    s.unacked = s.unacked.filter((b) => b.first_seq > ack.first_seq);
    s.postFailures = 0;
    applyTotals(ack.total_distance, ack.event_count, s.totals.t);
  }

  function onNack(nack) {
    if (nack.status === 409 && typeof nack.next_seq === "number") {
      // Already stored (a resend after a lost ack): drop what the session has.
      s.unacked = s.unacked.filter((b) => b.first_seq + b.events.length > nack.next_seq);
      return;
    }
    if (nack.status === 409 || nack.status === 404 || nack.status === 403) return startSession();
    const i = s.unacked.findIndex((b) => b.first_seq === nack.first_seq);
    if (nack.status === 422 && i >= 0) {
      // Refused for its content: drop it, renumber what follows, and resend that on a fresh socket.
      console.warn("cursor batch rejected", nack);
      const [dropped] = s.unacked.splice(i, 1);
      for (const b of s.unacked.slice(i)) b.first_seq -= dropped.events.length;
      s.nextSeq -= dropped.events.length;
    } else if (nack.status === 429) {
      s.retryAt = performance.now() + (nack.retry_after ?? 1) * 1000;
    }
    // Batches behind the refused one would wait for it in vain: reconnect, which resends them in order.
    s.ws?.close(4001, "resend");
  }

  async function send() {
    const session = s.session;
    const batch = s.pending.splice(0, MAX_BATCH);
    s.inflight = true;
    s.lastSentAt = performance.now();
    const started = performance.now();
    try {
      const res = await fetch(`${API}/${session.id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${session.token}`, "content-type": "application/json" },
        body: JSON.stringify({ events: batch, first_seq: s.nextSeq }),
        keepalive: s.hidden,
      });
      if (res.status === 202) {
        const body = await res.json();
        if (session === s.session) s.nextSeq = body.last_seq + 1;
        el.rtt.textContent = fmt.format(performance.now() - started);
        s.postFailures = 0;
        s.retryAt = 0;
        if (!el.banner.hidden && s.ws?.readyState === WebSocket.OPEN) hideBanner();
        // The socket normally brings these first; this keeps the figures right while it reconnects.
        applyTotals(body.total_distance, body.event_count, body.last_t);
        if (s.ws?.readyState !== WebSocket.OPEN) setState("reconnecting", "Reconnecting…");
        else setState("live", "Live");
      } else if (res.status === 409 && (await acceptedEarlier(res, session, batch))) {
        // An earlier send of these events was stored but its answer was lost; the rest goes out with the next batch.
      } else if ([401, 403, 404, 409].includes(res.status)) {
        // Token expired or session ended elsewhere: start afresh.
        if (session === s.session) startSession();
      } else if (res.status === 422) {
        console.warn("cursor batch rejected", await res.json().catch(() => null));
      } else {
        throw new Error(`HTTP ${res.status}`);
      }
    } catch {
      if (session === s.session) {
        s.pending.unshift(...batch);
        s.postFailures += 1;
        const delay = backoff(s.postFailures);
        s.retryAt = performance.now() + delay;
        offline(delay);
      }
    } finally {
      s.inflight = false;
    }
  }

  /**
   * A 409 with `next_seq` at or past our first_seq: the session already has events up to next_seq - 1 (a resend of a
   * batch whose answer was lost). Keeps only the events it does not have yet. False for any other 409 (ended).
   */
  async function acceptedEarlier(res, session, batch) {
    const problem = await res.json().catch(() => null);
    const nextSeq = problem?.next_seq;
    if (session !== s.session || typeof nextSeq !== "number" || nextSeq < s.nextSeq) return false;
    s.pending.unshift(...batch.slice(Math.min(batch.length, nextSeq - s.nextSeq)));
    s.nextSeq = nextSeq;
    return true;
  }

  // ---- WebSocket ----
  /**
   * The page is served by the same Worker as the API, so it connects to its own host (ws or wss like the page) with
   * the path and token of ws_url, whether ws_url is relative or built on PUBLIC_ORIGIN (which may name another
   * spelling of this host, e.g. 127.0.0.1 for a page opened as localhost, that the CSP's connect-src 'self' refuses).
   */
  function socketUrl(wsUrl) {
    const given = new URL(wsUrl, location.href);
    const url = new URL(given.pathname + given.search, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  function connect() {
    if (!s.session || s.hidden) return;
    clearTimeout(s.wsTimer);
    const ws = new WebSocket(socketUrl(s.session.ws_url));
    s.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== s.ws) return;
      // Live only once the session's hello arrives (see onFrame): an open socket alone proves little.
      resendUnacked(ws);
      clearInterval(s.pingTimer);
      s.pongDue = 0;
      s.pingTimer = setInterval(() => {
        if (s.pongDue && performance.now() > s.pongDue) return ws.close(4000, "no pong");
        ws.send("ping");
        s.pongDue = performance.now() + 10_000;
      }, PING_MS);
    });
    ws.addEventListener("message", (event) => {
      if (ws !== s.ws) return;
      if (event.data === "pong") {
        s.pongDue = 0;
        return;
      }
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", () => {
      if (ws !== s.ws) return;
      clearInterval(s.pingTimer);
      s.ws = null;
      if (s.hidden || s.starting) return;
      s.wsFailures += 1;
      const delay = backoff(s.wsFailures);
      if (s.wsFailures >= 3) offline(delay);
      else setState("reconnecting", "Reconnecting…");
      s.wsTimer = setTimeout(connect, delay);
    });
  }

  function closeSocket() {
    clearTimeout(s.wsTimer);
    clearInterval(s.pingTimer);
    const ws = s.ws;
    s.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
  }

  function onFrame(frame) {
    if (frame.type === "ack") {
      onAck(frame);
    } else if (frame.type === "nack") {
      onNack(frame);
    } else if (frame.type === "hello") {
      s.wsFailures = 0;
      hideBanner();
      setState("live", "Live");
      applyTotals(frame.total_distance, frame.event_count, frame.last_t ?? 0);
    } else if (frame.type === "frame") {
      s.speed = frame.speed;
      s.peak = Math.max(s.peak, frame.speed);
      s.lastFrameAt = performance.now();
      applyTotals(frame.total_distance, frame.event_count, frame.t);
      s.chart?.frame(frame.t, frame.speed, frame.total_distance);
    } else if (frame.type === "ended") {
      startSession();
    }
  }

  function applyTotals(distance, events, t) {
    if (events < s.totals.events) return; // an older answer than what is shown
    s.totals = { distance, events, t };
    el.distance.dataset.value = String(distance);
    el.events.dataset.value = String(events);
  }

  // ---- figures: eased towards the latest values, once per frame ----
  function renderFigures() {
    const idle = performance.now() - s.lastFrameAt > IDLE_MS;
    if (idle && s.speed !== 0) s.speed = 0;
    const ease = reducedMotion ? 1 : 0.25;
    const step = (from, to) => (Math.abs(to - from) < 0.5 ? to : from + (to - from) * ease);
    s.shown.speed = step(s.shown.speed, s.speed);
    s.shown.distance = step(s.shown.distance, s.totals.distance);
    s.shown.events = s.totals.events;
    el.speed.dataset.value = String(s.speed);
    el.peak.dataset.value = String(s.peak);
    el.speed.textContent = fmt.format(s.shown.speed);
    el.peak.textContent = fmt.format(s.peak);
    el.distance.textContent = fmt.format(s.shown.distance);
    el.events.textContent = fmt.format(s.shown.events);
    const metres = (s.totals.distance / 96) * 0.0254;
    el.distanceHuman.textContent =
      metres < 1 ? `≈ ${fmt.format(metres * 100)} cm at 96 dpi` : `≈ ${fmt1.format(metres)} m at 96 dpi`;
  }

  // ---- charts: cursor-chart.js ----
  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // ---- the trail: the last second of movement, fading out ----
  const trail = { points: [], ctx: el.trail.getContext("2d"), dpr: 1 };

  function sizeTrail() {
    trail.dpr = Math.min(2, devicePixelRatio || 1);
    el.trail.width = innerWidth * trail.dpr;
    el.trail.height = innerHeight * trail.dpr;
  }

  function trailPush(point) {
    if (reducedMotion) return;
    trail.points.push({ x: point.x, y: point.y, at: performance.now() });
  }

  function renderTrail() {
    if (reducedMotion) return;
    const { ctx, dpr, points } = trail;
    const t = performance.now();
    while (points.length && t - points[0].at > 900) points.shift();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, innerWidth, innerHeight);
    if (points.length < 2) return;
    const speedColor = css("--speed");
    const distanceColor = css("--distance");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1];
      const b = points[i];
      const life = 1 - (t - b.at) / 900;
      ctx.globalAlpha = Math.max(0, life) * 0.85;
      ctx.strokeStyle = i / points.length > 0.5 ? distanceColor : speedColor;
      ctx.lineWidth = 1 + life * 4;
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  // ---- the frame loop ----
  function frame() {
    sample();
    maybeSend();
    renderFigures();
    s.chart?.render();
    renderTrail();
    requestAnimationFrame(frame);
  }

  // Animation frames stop in a hidden tab; this keeps batches flowing (and flushes the last one) regardless.
  setInterval(maybeSend, 50);

  // ---- visibility: pause sampling and the socket while hidden, resume where we left off ----
  document.addEventListener("visibilitychange", () => {
    s.hidden = document.hidden;
    if (s.hidden) {
      maybeSend();
      closeSocket();
      setState("paused", "Paused");
    } else {
      s.sampled = null;
      s.pointer = null;
      setState("reconnecting", "Reconnecting…");
      if (s.session) connect();
    }
  });

  addEventListener("online", () => {
    s.retryAt = 0;
    if (!s.ws && s.session) connect();
  });

  el.retry.addEventListener("click", () => {
    s.retryAt = 0;
    s.wsFailures = 0;
    if (!s.session) return;
    if (!s.ws) connect();
    maybeSend();
  });

  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => s.chart?.rebuild());
  addEventListener("resize", sizeTrail);

  function boot() {
    sizeTrail();
    s.chart = cursorChart({
      uPlot: window.uPlot,
      containers: { speed: $("chart-speed"), distance: $("chart-distance") },
      css,
    });
    requestAnimationFrame(frame);
    startSession();
  }

  if (window.uPlot) boot();
  else addEventListener("load", boot, { once: true });
})();
