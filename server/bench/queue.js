#!/usr/bin/env node
/**
 * `make bench`: the queue at scale. 10,000 jobs queued over 4 queues by 50 users, against a
 * real sidecar whose 4 slots are held by stand-in runners (a shell that sleeps), so nothing
 * else starts. Each figure is printed with its reference, measured in the same run:
 *
 * - submit rate with 10,000 already queued, 8 clients, against a bare `node:http` server that
 *   only reads and parses the same body (same client code), before and after;
 * - the scheduler's decision on the real state (what the sidecar runs: the queue index, and the
 *   flat decideAdmissions for reference) at 10,000 and at 100,000 queued, three cases each;
 * - a page of 100 jobs of the jobs list (positions, ETAs, waiting) against the bare server
 *   answering the same bytes;
 * - the sidecar's memory with 10,000 and with 100,000 queued (the 88,000 more stored through the
 *   job lifecycle's group commit, without HTTP, to keep the run short).
 */
const fs = require('fs');
const http = require('http');
const { Buffer } = require('buffer');
const os = require('os');
const path = require('path');
const { parseConfig } = require('../dist/config/load');
const { startSidecar } = require('../dist/server');
const { decideAdmissions } = require('../dist/queue/scheduler');
const { pct, mb } = require('./common');

const JOBS = Number(process.env.BENCH_JOBS ?? 10000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 2000);
const BIG = Number(process.env.BENCH_BIG ?? 100000);
const USERS = 50;
const QUEUES = ['cpu', 'gpu-1', 'gpu-2', 'gpu-8'];
const PRIORITIES = ['low', 'normal', 'high'];
const CLIENTS = 8;

const nb = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'code',
      id: 'a',
      metadata: {},
      source: 'print(1)',
      outputs: [],
      execution_count: null
    }
  ]
};

/** The reference: a bare node:http server that reads and parses the body, answers small JSON. */
function startBare() {
  let n = 0;
  let page = '{}';
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(page);
      return;
    }
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      n += 1;
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ id: `j-${n}`, profile: body.profile, position: n })
      );
    });
  });
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        setPage: text => (page = text),
        close: () => new Promise(r => server.close(r))
      })
    )
  );
}

/** `count` submits from CLIENTS clients (the same code for both servers); jobs/s. */
async function submitMany(url, users, count, offset = 0) {
  const post = (token, body) =>
    fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json'
      },
      body: JSON.stringify(body)
    }).then(async r => {
      if (r.status !== 201) throw new Error(`submit answered ${r.status}`);
      await r.arrayBuffer();
    });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let k = next++; k < count; k = next++) {
        const i = k + offset;
        await post(users[i % USERS].token, {
          profile: QUEUES[i % QUEUES.length],
          notebook: nb,
          priority: PRIORITIES[i % 3]
        });
      }
    })
  );
  return count / ((performance.now() - t0) / 1000);
}

/** p50 / p99 of 1,000 decisions (after 200 warm-up ones) for 0, 1 and 3 free slots a pool. */
function decisions(decide, label) {
  for (const [free, name] of [
    [0, 'every pool full'],
    [1, 'one free slot per pool'],
    [3, 'three free slots per pool']
  ]) {
    const pools = Object.fromEntries(
      QUEUES.map(q => [q, { capacity: 1 + free, running: 1 }])
    );
    const times = [];
    for (let k = -200; k < 1000; k++) {
      const t = performance.now();
      decide(pools);
      if (k >= 0) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `decision, ${label}, ${name}: p50 ${pct(times, 50).toFixed(3)} ms, p99 ${pct(times, 99).toFixed(3)} ms`
    );
  }
}

const r2 = x => x.toFixed(2);

/**
 * GET with one retry when the server closed the idle keep-alive connection as it was reused
 * (the phases before the list take longer than the server's keep-alive timeout).
 */
async function get(url, headers) {
  try {
    return await (await fetch(url, { headers })).text();
  } catch (err) {
    if (err.cause?.code !== 'ECONNRESET') throw err;
    return (await fetch(url, { headers })).text();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-bench-queue-'));
  const fakePython = path.join(dir, 'python');
  fs.writeFileSync(
    fakePython,
    '#!/bin/sh\n# Stands in for a runner: holds its slot until cancelled.\nexec sleep 3600\n',
    { mode: 0o755 }
  );
  const users = Array.from({ length: USERS }, (_, i) => ({
    token: `bench-token-user-${String(i).padStart(4, '0')}`,
    user: `user${i}`,
    admin: false
  }));
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    auth: { token: 'bench-admin-token-0123456789', user: 'admin', users },
    limits: { max_queued_per_user: BIG },
    backend: {
      type: 'local',
      local: {
        python: fakePython,
        log_dir: path.join(dir, 'logs'),
        // The bench's users are one person's stand-ins.
        single_os_user: true
      }
    },
    profiles: QUEUES.map(name => ({
      name,
      cpus: 1,
      gpus: 0,
      memory: '1Gi',
      capacity: 1
    }))
  });
  const rss0 = process.memoryUsage().rss;
  const bare = await startBare();
  const s = await startSidecar({ config, dbPath: path.join(dir, 'bench.db') });
  try {
    // Fill: the first job of each queue takes its slot, the rest wait.
    const t0 = performance.now();
    const fillRate = await submitMany(s.url, users, JOBS);
    console.log(
      `fill: ${JOBS} submits (${CLIENTS} clients) in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${fillRate.toFixed(0)} jobs/s`
    );
    // The window, between two windows of the bare server (the machine's load moves).
    await submitMany(bare.url, users, 500);
    const bare1 = await submitMany(bare.url, users, WINDOW);
    const rate = await submitMany(s.url, users, WINDOW, JOBS);
    const bare2 = await submitMany(bare.url, users, WINDOW);
    const bareRate = (bare1 + bare2) / 2;
    console.log(
      `submit with ${JOBS} queued, ${WINDOW} submits, ${CLIENTS} clients: nbqueue ${rate.toFixed(0)} jobs/s, bare node:http ${bareRate.toFixed(0)} jobs/s (${bare1.toFixed(0)}, ${bare2.toFixed(0)}): ratio ${r2(rate / bareRate)} (target >= 0.5)`
    );

    // The decision the sidecar runs, on its own queue index (every queued job, 4 busy slots).
    const queue = s.jobs.queries.queue;
    const { runningByUser } = queue.capacity().state;
    const queued = queue.queue.size;
    decisions(
      pools => queue.queue.decide({ pools, runningByUser }),
      `${queued} queued (queue index)`
    );
    // The pure function on the flat list, as before the index: the reference.
    const flat = queue.queue.all();
    decisions(
      pools => decideAdmissions({ queued: flat, pools, runningByUser }),
      `${queued} queued (flat list, decideAdmissions)`
    );

    // A page of 100 of the jobs list: the server's time to build and serialise it, and the
    // round trip against the bare server answering the same bytes.
    const admin = { user: 'admin', admin: true };
    const serverTimes = [];
    const trips = [];
    const bareTrips = [];
    const total = queued + 4;
    const auth = { Authorization: 'Bearer bench-admin-token-0123456789' };
    let bytes = 0;
    for (let cursor = 0, k = 0; k < 100; k++, cursor = (cursor + 100) % total) {
      const t = performance.now();
      const text = JSON.stringify(
        s.jobs.queries.list(admin, { all: true, limit: 100, cursor })
      );
      serverTimes.push(performance.now() - t);
      bytes = text.length;
      bare.setPage(text);
      let u = performance.now();
      await get(`${s.url}/api/jobs?all=1&limit=100&cursor=${cursor}`, auth);
      trips.push(performance.now() - u);
      u = performance.now();
      await get(`${bare.url}/page`, {});
      bareTrips.push(performance.now() - u);
    }
    for (const xs of [serverTimes, trips, bareTrips]) xs.sort((a, b) => a - b);
    console.log(
      `jobs list, page of 100 (${(bytes / 1024).toFixed(0)} KiB) at ${queued} queued: server time p50 ${r2(pct(serverTimes, 50))} ms, p95 ${r2(pct(serverTimes, 95))} ms (target <= 5 ms); round trip p95 ${r2(pct(trips, 95))} ms vs bare node:http with the same bytes ${r2(pct(bareTrips, 95))} ms`
    );
    const rss10k = process.memoryUsage().rss;

    // The real sidecar with BIG queued: the rest stored directly (as submits store them), then
    // a page read so the queue index holds them all.
    const t2 = performance.now();
    const more = [];
    const lifecycle = s.jobs.lifecycle;
    const { spec } = s.store.listJobs({ states: ['queued'], limit: 1 })[0];
    for (let i = JOBS + WINDOW; i < BIG; i++) {
      more.push(
        lifecycle.enqueueGrouped({
          owner: `user${i % USERS}`,
          name: `bench ${i}`,
          profile: QUEUES[i % QUEUES.length],
          queue: QUEUES[i % QUEUES.length],
          priority: PRIORITIES[i % 3],
          spec,
          notebook: nb
        })
      );
      if (more.length === 5000) await Promise.all(more.splice(0));
    }
    await Promise.all(more);
    // A few pages, so the queue index holds them all, and what a page costs at that size.
    const bigTimes = [];
    for (let k = 0; k < 20; k++) {
      const t = performance.now();
      JSON.stringify(
        s.jobs.queries.list(admin, { all: true, limit: 100, cursor: k * 5000 })
      );
      bigTimes.push(performance.now() - t);
    }
    bigTimes.sort((a, b) => a - b);
    const bigQueued = queue.queue.size;
    console.log(
      `${BIG - JOBS - WINDOW} more stored in ${((performance.now() - t2) / 1000).toFixed(1)} s (group commit, no HTTP); sidecar RSS: before start ${mb(rss0)}, ${queued} queued ${mb(rss10k)}, ${bigQueued} queued ${mb(process.memoryUsage().rss)} (target < 400 MB)`
    );
    console.log(
      `jobs list, page of 100 at ${bigQueued} queued: server time p50 ${r2(pct(bigTimes, 50))} ms, p95 ${r2(pct(bigTimes, 95))} ms`
    );
    // The sidecar's own decision at that size (its queue index, the same 4 busy slots).
    decisions(
      pools => queue.queue.decide({ pools, runningByUser }),
      `${bigQueued} queued (queue index)`
    );
  } finally {
    for (const j of s.store.listJobs({ states: ['starting', 'running'] })) {
      const pid = j.backend_ref && j.backend_ref.pid;
      if (pid) process.kill(pid, 'SIGKILL');
    }
    await s.close();
    await bare.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
