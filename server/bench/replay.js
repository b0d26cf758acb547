#!/usr/bin/env node
/**
 * `make bench`: replaying a long job to socket.io subscribers. 1,000,000 events are put in a
 * real store for one job, then a fresh client subscribes from 0 and takes them all, first one
 * that reads as fast as it can, then a deliberately slow one (it stops reading its socket for
 * SLOW_MS after each page, so the sidecar's writes back up). The clients run in their own
 * processes: what is measured is the sidecar's. Reports replay time, events/s, the sidecar's
 * event-loop lag (perf_hooks.monitorEventLoopDelay) during each replay, a REST call's latency
 * meanwhile, and the sidecar's RSS growth.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { monitorEventLoopDelay } = require('perf_hooks');
const { setInterval, clearInterval } = require('timers');
const { io } = require('socket.io-client');

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000);
const SLOW_MS = Number(process.env.BENCH_REPLAY_SLOW_MS ?? 10);

/** The client side, in a child process: `replay.js client URL TOKEN JOB N SLOW_MS`. */
function client([url, token, jobId, n, slowMs]) {
  const total = Number(n);
  const socket = io(url, { auth: { token }, transports: ['websocket'] });
  let last = 0;
  let t0;
  socket.on('connect', () => {
    t0 = performance.now();
    socket.emit('subscribe', { job_id: jobId, after: 0 });
  });
  socket.on('events', msg => {
    for (const ev of msg.events) {
      if (ev.seq !== last + 1) throw new Error(`seq ${ev.seq} after ${last}`);
      last = ev.seq;
    }
    // A slow client: it stops reading its socket for slowMs after each page (without
    // spending CPU the sidecar would miss), so the sidecar's writes back up.
    const raw = socket.io.engine.transport.ws?._socket;
    if (Number(slowMs) > 0 && raw) {
      raw.pause();
      setTimeout(() => raw.resume(), Number(slowMs));
    }
    if (last === total) {
      process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }));
      socket.close();
      process.exit(0);
    }
  });
}

function runClient(s, jobId, slowMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(__dirname, 'replay.js'),
        'client',
        s.url,
        s.token,
        jobId,
        String(EVENTS),
        String(slowMs)
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    );
    let out = '';
    child.stdout.on('data', d => (out += d));
    child.on('close', code =>
      code === 0
        ? resolve(JSON.parse(out))
        : reject(new Error(`client exited ${code}`))
    );
  });
}

async function replayOnce(s, jobId, label, slowMs) {
  const { mb } = require('./common');
  const lag = monitorEventLoopDelay({ resolution: 5 });
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  const probes = [];
  let done = false;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  // A REST call every 200 ms while the replay runs: how long a user waits meanwhile.
  const probing = (async () => {
    while (!done) {
      const t = performance.now();
      await fetch(`${s.url}/api/jobs/${jobId}`, {
        headers: { Authorization: `Bearer ${s.token}` }
      }).then(r => r.json());
      probes.push(performance.now() - t);
      await new Promise(r => setTimeout(r, 200));
    }
  })();
  lag.enable();
  const { ms } = await runClient(s, jobId, slowMs);
  lag.disable();
  done = true;
  await probing;
  clearInterval(sampler);
  probes.sort((a, b) => a - b);
  const row = {
    client: label,
    events: EVENTS,
    'replay s': (ms / 1000).toFixed(1),
    'events/s': Math.round(EVENTS / (ms / 1000)),
    'lag p50 ms': (lag.percentile(50) / 1e6).toFixed(1),
    'lag p99 ms': (lag.percentile(99) / 1e6).toFixed(1),
    'lag max ms': (lag.max / 1e6).toFixed(1),
    'REST max ms': probes.length ? probes[probes.length - 1].toFixed(1) : '-',
    'RSS growth': mb(rssPeak - rss0)
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main() {
  const { parseConfig } = require('../dist/config/load');
  const { startSidecar } = require('../dist/server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-bench-replay-'));
  const sleeper = path.join(dir, 'python');
  fs.writeFileSync(sleeper, '#!/bin/sh\nexec sleep 3600\n', { mode: 0o755 });
  const s = await startSidecar({
    config: parseConfig({
      server: { host: '127.0.0.1', port: 0 },
      backend: {
        type: 'local',
        local: { python: sleeper, log_dir: path.join(dir, 'logs') }
      },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
    }),
    dbPath: path.join(dir, 'bench.db')
  });
  try {
    const { api, notebook, code } = require('./common');
    const job = await api(s, 'POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook([code('c1', '1')])
    });
    const t0 = performance.now();
    for (let seq = 1; seq <= EVENTS; seq += 10_000) {
      const batch = [];
      for (let i = seq; i < Math.min(seq + 10_000, EVENTS + 1); i++)
        batch.push({
          seq: i,
          time: Date.now(),
          type: 'output',
          cell_id: 'c1',
          output: {
            output_type: 'stream',
            name: 'stdout',
            text: `step ${i} loss ${1 / i}\n`
          }
        });
      s.store.appendEvents(job.id, batch);
    }
    console.log(
      `stored ${EVENTS} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`
    );
    const rows = [
      await replayOnce(s, job.id, 'fast', 0),
      await replayOnce(s, job.id, `slow (${SLOW_MS} ms a page)`, SLOW_MS)
    ];
    console.table(rows);
    await api(s, 'POST', `/api/jobs/${job.id}/cancel`);
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'client') client(process.argv.slice(3));
else
  main().catch(err => {
    console.error(err);
    process.exit(1);
  });
