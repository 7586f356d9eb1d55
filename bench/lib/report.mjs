// The readable table printed at the end of `npm run bench` (the same numbers as bench/results.json), and the
// generated part of docs/benchmarks.md.
import { readFileSync, writeFileSync } from "node:fs";

const round = (value) => Math.round(value);
const mark = (pass) => (pass === true ? "ok" : pass === false ? "MISSED" : "");

function table(headers, rows) {
  const cells = [headers, ...rows].map((row) =>
    row.map((cell) => (cell === null || cell === undefined ? "–" : String(cell))),
  );
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(cells[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.slice(1).map(line)].join(
    "\n",
  );
}

export function formatReport(results) {
  const out = [];
  const m = results.machine;
  out.push(`# npm run bench, ${results.date}`);
  out.push(`machine: ${m.cpu}, ${m.nproc} cores, ${m.memory}; load average at start ${m.loadavg_start.join(" ")}`);
  out.push(`settings: ${results.settings.connections} connections, ${results.settings.duration_s} s per route`);
  for (const run of results.subset_runs ?? []) {
    const load = run.machine?.loadavg_start?.join(" ");
    out.push(
      `measured later, by BENCH_ONLY=${run.only.join(",")} npm run bench at ${run.date} (${run.machine?.cpu}, load ` +
        `average at start ${load}): ${run.figures.join(", ")}`,
    );
  }
  if (results.bundle) {
    const b = results.bundle;
    out.push(
      `\n## Bundle\n${table(["raw KB", "gzip KB", "target", ""], [[b.raw_kb, b.gzip_kb, `< ${b.target_gzip_kb}`, mark(b.pass)]])}`,
    );
  }
  if (results.console) {
    const b = results.console;
    out.push(
      `\n## Console\n${table(
        ["page", "JS files", "raw KB", "gzip KB", "target", ""],
        [["/sign-in, first load", b.js_files, b.raw_kb, b.gzip_kb, `≤ ${b.target_gzip_kb}`, mark(b.pass)]],
      )}${b.measured_at ? `\n\nmeasured ${b.measured_at}` : ""}`,
    );
  }
  if (results.login?.hash) {
    const h = results.login.hash;
    const rows = [[`hashPassword (Node, ${h.params}, ${h.memory_mib} MiB)`, h.hash_p50_ms, null]];
    rows.push([`verifyPassword (Node)`, h.verify_p50_ms, h.verify_p99_ms]);
    for (const [name, harness] of Object.entries(results.harnesses ?? {})) {
      if (harness.login) rows.push([`POST /api/v1/auth/login (${name})`, harness.login.p50_ms, harness.login.p99_ms]);
    }
    out.push(`\n## Login\n${table(["what", "p50 ms", "p99 ms"], rows)}`);
  }
  for (const [name, harness] of Object.entries(results.harnesses ?? {})) {
    out.push(`\n## ${name}: ${harness.description}`);
    if (harness.rest) {
      out.push(
        table(
          ["route", "req/s", "p50 ms", "p99 ms", "ratio", "target", "non-2xx", ""],
          harness.rest.map((r) => [
            r.label,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.ratio,
            r.target === null ? null : `≥ ${r.target}`,
            r.non2xx + r.errors,
            mark(r.pass),
          ]),
        ),
      );
    }
    if (harness.bare_with_asset_router) {
      const b = harness.bare_with_asset_router;
      if (b.error) out.push(`bare route with Miniflare's asset router in front: ${b.error}`);
      else
        out.push(
          `bare route with Miniflare's asset router in front: ${b.rps} req/s, p50 ${b.p50_ms} ms, p99 ${b.p99_ms} ms`,
        );
    }
    if (harness.cursor) {
      const { single: one, many, targets, pass } = harness.cursor;
      const per = many.per_moving_session_second;
      out.push(
        `\ncursor pipeline (the page's socket protocol)\n${table(
          ["figure", "value", "target", ""],
          [
            [
              `one session, ${one.events_per_s} events/s: send → ack p50 ms`,
              one.ack_latency_p50_ms,
              `≤ ${targets.p50_ms}`,
              mark(pass.p50),
            ],
            ["one session: send → ack p99 ms", one.ack_latency_p99_ms, `≤ ${targets.p99_ms}`, mark(pass.p99)],
            [
              "one session: send → viewer frame p50 / p99 ms",
              `${one.frame_latency_p50_ms} / ${one.frame_latency_p99_ms}`,
              null,
              "",
            ],
            [`${many.sessions} sessions at 60 Hz for ${many.moving_s} s: events sent`, many.events_sent, null, ""],
            ["events lost / doubled", `${many.lost} / ${many.doubled}`, "0 / 0", mark(pass.lost && pass.doubled)],
            ["events in D1 rollups", many.d1_rollup_events, "= sent", mark(pass.d1_count)],
            [
              "send → ack p50 / p99 ms (all sessions)",
              `${many.ack_latency_p50_ms} / ${many.ack_latency_p99_ms}`,
              null,
              "",
            ],
            ["per moving session-second: Worker invocations", per.worker_invocations, null, ""],
            ["per moving session-second: Durable Object requests", per.do_requests, null, ""],
            [
              "per moving session-second: queue messages (steady)",
              `${per.queue_messages} (${per.queue_messages_steady})`,
              "≤ 1",
              "",
            ],
            [
              "per moving session-second: D1 rows written (steady)",
              `${per.d1_rows_written} (${per.d1_rows_written_steady})`,
              "≤ 1",
              "",
            ],
          ],
        )}`,
      );
    }
    if (harness.views) {
      const v = harness.views;
      out.push(
        `\nview counting\n${table(
          ["figure", "value", ""],
          [
            [`anonymous reads (${v.reads_per_s} req/s, non-2xx ${v.non2xx + v.errors})`, v.reads, ""],
            [
              "views counted in D1 after drain (per product min/max)",
              `${v.views_counted} (${v.per_product.min}/${v.per_product.max})`,
              mark(v.exact),
            ],
            ["queue batches (messages per batch)", `${v.queue_batches} (${v.messages_per_batch})`, ""],
            ["D1 write statements per 1,000 views", v.d1_write_statements_per_1000_views, ""],
            ["  of which product UPDATEs per 1,000 views", v.product_updates_per_1000_views, ""],
            [
              "most UPDATEs of one product in one batch (target ≤ 1)",
              v.max_updates_per_product_per_batch,
              mark(v.pass),
            ],
            ["queue drain, s", v.drain_s, ""],
          ],
        )}`,
      );
    }
    if (harness.growth) {
      out.push(
        `\ngrowth (2 connections)\n${table(
          ["route", "p50 ms @1k", "p50 ms @100k", "p99 ms @1k", "p99 ms @100k", "growth", "target", ""],
          harness.growth.map((g) => [
            g.label,
            g.p50_ms[1000],
            g.p50_ms[100000],
            g.p99_ms[1000],
            g.p99_ms[100000],
            g.growth === null ? null : `${g.growth}x`,
            `< ${g.target}x`,
            mark(g.pass),
          ]),
        )}`,
      );
    }
    if (harness.edge) out.push(`\n${edgeReport(harness.edge)}`);
    if (harness.error) out.push(`ERROR: ${harness.error}`);
  }
  out.push(`\ntotal time ${results.total_s} s`);
  return out.join("\n");
}

/** Floors, chain, per-route D1 cost and CPU, cache cold/warm, rows read at scale (bench/figures/edge.mjs). */
export function edgeReport(edge) {
  const out = [];
  const chain = edge.chain_rounds;
  if (!chain) return "edge: figures of an older shape; run BENCH_ONLY=edge npm run bench";
  const range = ([low, high]) => `${low}–${high}`;
  out.push(
    `floors and the middleware chain, one piece more per step: ${chain.rounds} interleaved rounds of ` +
      `${chain.seconds_per_step} s per step, medians (ratios to bare Hono taken within each round; workerd CPU per ` +
      `request from /proc)\n${table(
        [
          "step",
          "req/s",
          "p50 ms",
          "p99 ms",
          "req/s ÷ Hono",
          "(range)",
          "CPU ms/req",
          "Hono CPU ÷ this",
          "(range)",
          "CPU ms added",
          "(range)",
        ],
        chain.steps.map((s) => [
          s.label,
          s.rps,
          s.p50_ms,
          s.p99_ms,
          s.rps_ratio_to_hono,
          range(s.rps_ratio_range),
          s.cpu_ms_per_request,
          s.cpu_ratio_to_hono,
          range(s.cpu_ratio_range),
          s.cpu_ms_added,
          s.cpu_ms_added_range ? range(s.cpu_ms_added_range) : null,
        ]),
      )}`,
  );
  out.push(
    `app constant route / bare Hono: ${edge.chain.rps_ratio} in req/s, ${edge.chain.cpu_ratio} in CPU per request ` +
      `(target ≥ ${edge.chain.target} in both) ${mark(edge.chain.pass)}`,
  );
  const piece = edge.chain.largest_piece;
  out.push(
    `the piece that costs most: ${piece.piece}, ${piece.cpu_ms_added} ms CPU per request ` +
      `(${round(piece.share_of_bare_hono * 100)} % of a bare Hono request)`,
  );
  out.push(
    `\nroutes (D1 cost from Server-Timing of one request like the measured ones)\n${table(
      [
        "route",
        "req/s",
        "p50 ms",
        "p99 ms",
        "÷ app route",
        "X-Cache",
        "D1 rt",
        "rows read",
        "rows written",
        "CPU ms/req",
      ],
      edge.routes.map((r) => [
        r.label,
        r.rps,
        r.p50_ms,
        r.p99_ms,
        r.ratio_to_app,
        r.x_cache,
        r.d1_round_trips,
        r.rows_read,
        r.rows_written,
        r.cpu_ms_per_request,
      ]),
    )}`,
  );
  out.push(
    `warm anonymous product read / app constant route: ${edge.warm_read.ratio}, rows read ${edge.warm_read.rows_read} ` +
      `(target ≥ ${edge.warm_read.target} with 0 rows) ${mark(edge.warm_read.pass)}`,
  );
  out.push(`signed-in reads in 1 round trip: ${mark(edge.signed_in_reads_one_round_trip)}`);
  out.push(
    `\nlist reads as the tables grow (signed in, limit=20)\n${table(
      ["table", "rows", "req/s", "p50 ms", "p99 ms", "D1 rt", "rows read"],
      edge.scale.map((r) => [r.table, r.rows, r.rps, r.p50_ms, r.p99_ms, r.d1_round_trips, r.rows_read]),
    )}`,
  );
  out.push(`rows read flat from 1,000 to 100,000 rows: ${mark(edge.rows_read_flat)}`);
  return out.join("\n");
}

const BEGIN = "<!-- bench:latest:begin (written by npm run bench; do not edit by hand) -->";
const END = "<!-- bench:latest:end -->";

/**
 * Replaces the generated part of docs/benchmarks.md with this run's whole report (the table printed at the end of
 * the run), so the figures in the docs are always those of the last full run and never copied by hand. Returns the
 * file written.
 */
export function writeBenchmarksDoc(results, file = new URL("../../docs/benchmarks.md", import.meta.url)) {
  const body = formatReport(results)
    .replace(/^# (.*)$/m, "Run: $1.")
    .replace(/^## /gm, "### ");
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next =
    start !== -1 && end > start
      ? `${text.slice(0, start + BEGIN.length)}\n${body}\n${text.slice(end)}`
      : `${text.trimEnd()}\n\n## Latest run\n\n${BEGIN}\n${body}\n${END}\n`;
  writeFileSync(file, next);
  return file instanceof URL ? file.pathname : file;
}
