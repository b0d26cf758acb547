#!/usr/bin/env node
/**
 * `make bench`: what a long job's metric points cost the sidecar's store (needs
 * `npm run build -w server`).
 *
 * The job: 2 hours logging 10 metrics at 100 points/s each (7,200,000 points), time
 * compressed: a simulated runner POSTs the points as the real runner does (500 events a batch,
 * one POST at a time, the next when the answer came) to a real sidecar in this process, with
 * its real SQLite store. By default three fractions of the job run (1/72, 1/24 and 1/8 of it),
 * each in a fresh store, to show that store bytes grow linearly in points and the sidecar's
 * RSS does not; BENCH_STORAGE_FULL=1 runs the whole 7.2M points too.
 *
 * Printed per size: store bytes per point (the database file after a checkpoint, less an
 * empty store), rows in the metrics and events tables, ingest points/s, and the sidecar
 * process's RSS before, at its peak and after. Bounds (the run fails past them): at most 100
 * bytes per point, per-point bytes of the largest size within 10% of the smallest, one row per
 * point, and peak RSS growth within 150 MiB whatever the size.
 */
/* global setInterval, clearInterval */
const Database = require('better-sqlite3');
const fs = require('fs');
const path = require('path');
const { mb, startBenchSidecar } = require('./common');

const TOTAL = 2 * 3600 * 10 * 100; // 2 h × 10 metrics × 100 points/s
const BATCH = 500;
const METRICS = Array.from({ length: 10 }, (_, i) =>
  i === 0 ? 'train/loss' : `train/metric_${i}`
);
const MAX_BYTES_PER_POINT = 100;
const MAX_RSS_GROWTH = 150 * 1024 * 1024;

/** A job in the store with a runner token, as a backend gives one to its runner. */
function runnerJob(s, token) {
  const { hashToken } = require('../dist/auth/token');
  const id = `j-bench${Date.now().toString(16)}`;
  const now = new Date().toISOString();
  s.store.insertJob(
    {
      id,
      owner: 'bench',
      name: 'two hours of metrics',
      profile: 'cpu',
      queue: 'cpu',
      priority: 'normal',
      state: 'running',
      reason: null,
      created_at: now,
      started_at: now,
      finished_at: null,
      position_key: s.store.nextPositionKey(),
      spec: { parameters: {}, notebook_path: null, cwd: null, kernel: {} },
      cancel_requested: false,
      held: false,
      backend_ref: null,
      last_seq: 0,
      has_result: false
    },
    { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }
  );
  s.store.updateJob(id, { token_hash: hashToken(token) });
  return id;
}

/** Bytes of the store's file once its write-ahead log is folded in. */
function storeBytes(file) {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return fs.statSync(file).size;
}

async function run(points) {
  const { dir, s } = await startBenchSidecar();
  const file = path.join(dir, 'bench.db');
  try {
    const token = 'bench-runner-token-0123456789';
    const id = runnerJob(s, token);
    const empty = storeBytes(file);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const peak = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 100);
    const t0 = Date.UTC(2026, 10, 23, 14, 0, 0);
    const started = performance.now();
    for (let seq = 1; seq <= points; seq += BATCH) {
      const parts = [];
      for (let n = seq; n < Math.min(seq + BATCH, points + 1); n++) {
        const i = n - 1;
        const step = Math.floor(i / METRICS.length); // 100 steps a second
        parts.push(
          JSON.stringify({
            seq: n,
            time: t0 + step * 10,
            type: 'metric',
            name: METRICS[i % METRICS.length],
            value: 1 / (step + 1) + (i % METRICS.length),
            step,
            kind: 'user',
            cell_id: 'a1b2c3d4',
            cell_index: 3
          })
        );
      }
      const res = await fetch(`${s.url}/api/runner/jobs/${id}/events`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json'
        },
        body: `{"events":[${parts.join(',')}]}`
      });
      const answer = await res.json();
      if (res.status !== 200 || answer.last_seq !== seq + parts.length - 1)
        throw new Error(
          `batch at ${seq}: ${res.status} ${JSON.stringify(answer)}`
        );
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(peak);
    global.gc?.();
    const rssAfter = process.memoryUsage().rss;
    const db = new Database(file, { readonly: true });
    const count = table =>
      db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE job_id = ?`).get(id)
        .n;
    const rows = { metrics: count('metrics'), events: count('events') };
    db.close();
    const bytes = storeBytes(file) - empty;
    return {
      points,
      seconds,
      bytes,
      perPoint: bytes / points,
      rows,
      rssBefore,
      rssPeak,
      rssAfter
    };
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = [TOTAL / 72, TOTAL / 24, TOTAL / 8];
  if (process.env.BENCH_STORAGE_FULL === '1') sizes.push(TOTAL);
  const results = [];
  const problems = [];
  for (const points of sizes) {
    const r = await run(points);
    results.push(r);
    console.log(
      `storage: ${r.points.toLocaleString('en')} points (${((r.points / TOTAL) * 120).toFixed(1)} min of the 2-hour job) in ${r.seconds.toFixed(1)} s = ${Math.round(r.points / r.seconds).toLocaleString('en')} points/s; store ${(r.bytes / 1024 / 1024).toFixed(1)} MiB = ${r.perPoint.toFixed(1)} bytes/point; rows: ${r.rows.metrics} metrics, ${r.rows.events} events; sidecar RSS ${mb(r.rssBefore)} before, ${mb(r.rssPeak)} peak, ${mb(r.rssAfter)} after`
    );
    if (r.rows.metrics !== r.points || r.rows.events !== 0)
      problems.push(`${r.points} points: rows ${JSON.stringify(r.rows)}`);
    if (r.perPoint > MAX_BYTES_PER_POINT)
      problems.push(
        `${r.points} points: ${r.perPoint.toFixed(1)} bytes/point > ${MAX_BYTES_PER_POINT}`
      );
    if (r.rssPeak - r.rssBefore > MAX_RSS_GROWTH)
      problems.push(
        `${r.points} points: RSS grew ${mb(r.rssPeak - r.rssBefore)}`
      );
  }
  const first = results[0];
  const last = results[results.length - 1];
  const drift = last.perPoint / first.perPoint - 1;
  if (Math.abs(drift) > 0.1)
    problems.push(`bytes/point drift ${(drift * 100).toFixed(1)}% > 10%`);
  const full = (last.perPoint * TOTAL) / 1024 / 1024 / 1024;
  console.log(
    `storage: linear in points: bytes/point ${results.map(r => r.perPoint.toFixed(1)).join(', ')} (drift ${(drift * 100).toFixed(1)}%, bound 10%); the whole 2-hour job: ${TOTAL.toLocaleString('en')} points ≈ ${full.toFixed(2)} GiB of store (bound ${MAX_BYTES_PER_POINT} bytes/point: ${((MAX_BYTES_PER_POINT * TOTAL) / 1024 / 1024 / 1024).toFixed(2)} GiB), ingest ≈ ${((TOTAL / last.points) * last.seconds).toFixed(0)} s at ${Math.round(last.points / last.seconds).toLocaleString('en')} points/s (the job logs 1,000/s); RSS growth bound ${mb(MAX_RSS_GROWTH)}`
  );
  if (problems.length) {
    console.error(`storage: over its bounds: ${problems.join('; ')}`);
    process.exit(1);
  }
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
