#!/usr/bin/env node
/**
 * `make bench`: the queue at scale. 10,000 jobs queued over 4 queues by 50 users, against a
 * real sidecar whose 4 slots are held by stand-in runners (a shell that sleeps), so nothing
 * else starts. Measures: submitting them over REST (8 at a time), the scheduler's decision
 * time on that state (the pure function, 1,000 decisions), listing all jobs page by page, and
 * the sidecar's memory.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseConfig } = require('../dist/config/load');
const { startSidecar } = require('../dist/server');
const { decideAdmissions } = require('../dist/queue/scheduler');
const { pct, mb } = require('./common');

const JOBS = Number(process.env.BENCH_JOBS ?? 10000);
const USERS = 50;
const QUEUES = ['cpu', 'gpu-1', 'gpu-2', 'gpu-8'];

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
    limits: { max_queued_per_user: JOBS },
    backend: {
      type: 'local',
      local: { python: fakePython, log_dir: path.join(dir, 'logs') }
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
  const s = await startSidecar({ config, dbPath: path.join(dir, 'bench.db') });
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
  const post = (token, body) =>
    fetch(`${s.url}/api/jobs`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json'
      },
      body: JSON.stringify(body)
    }).then(r => {
      if (r.status !== 201) throw new Error(`submit answered ${r.status}`);
    });
  try {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < JOBS; i = next++) {
          const u = users[i % USERS];
          await post(u.token, {
            profile: QUEUES[i % QUEUES.length],
            notebook: nb,
            priority: ['low', 'normal', 'high'][i % 3]
          });
        }
      })
    );
    const submitMs = performance.now() - t0;
    console.log(
      `submit ${JOBS} jobs (8 concurrent): ${(submitMs / 1000).toFixed(1)} s, ${(JOBS / (submitMs / 1000)).toFixed(0)} jobs/s`
    );

    // The scheduler on the real state: every queued job, the 4 busy slots, 50 users.
    const queued = s.store.listJobs({ states: ['queued'] }).map(j => ({
      id: j.id,
      owner: j.owner,
      pool: j.profile,
      queue: j.queue,
      priorityRank: config.priorities.indexOf(j.priority),
      positionKey: j.position_key
    }));
    const runningByUser = {};
    for (const j of s.store.listJobs({ states: ['starting', 'running'] }))
      runningByUser[j.owner] = (runningByUser[j.owner] ?? 0) + 1;
    // The decision on that state, 1,000 times after 200 warm-up ones (a running sidecar decides
    // on every change), for three cases: every pool full; one slot free in every pool (a job
    // ended: the one-pass pick); three free in every pool (the full admission order).
    const decide = free => {
      const pools = Object.fromEntries(
        QUEUES.map(q => [q, { capacity: 1 + free, running: 1 }])
      );
      const times = [];
      for (let k = -200; k < 1000; k++) {
        const t = performance.now();
        decideAdmissions({ queued, pools, runningByUser });
        if (k >= 0) times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b);
    };
    for (const [free, label] of [
      [0, 'every pool full'],
      [1, 'one free slot per pool'],
      [3, 'three free slots per pool']
    ]) {
      const times = decide(free);
      console.log(
        `scheduler decision over ${queued.length} queued jobs, ${label}: p50 ${pct(times, 50).toFixed(3)} ms, p99 ${pct(times, 99).toFixed(3)} ms (target p99 < 1 ms)`
      );
    }

    const t1 = performance.now();
    let cursor = 0;
    let pages = 0;
    let listed = 0;
    while (cursor !== null) {
      const page = await (
        await fetch(`${s.url}/api/jobs?all=1&limit=100&cursor=${cursor}`, {
          headers: { Authorization: 'Bearer bench-admin-token-0123456789' }
        })
      ).json();
      listed += page.jobs.length;
      pages += 1;
      cursor = page.next_cursor;
    }
    const listMs = performance.now() - t1;
    console.log(
      `list all ${listed} jobs, 100 a page: ${pages} pages in ${(listMs / 1000).toFixed(1)} s (${(listMs / pages).toFixed(0)} ms a page)`
    );
    console.log(
      `sidecar process memory (RSS): ${mb(process.memoryUsage().rss)} (before start: ${mb(rss0)})`
    );
  } finally {
    for (const j of s.store.listJobs({ states: ['starting', 'running'] })) {
      const pid = j.backend_ref && j.backend_ref.pid;
      if (pid) process.kill(pid, 'SIGKILL');
    }
    await s.close();
  }
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
