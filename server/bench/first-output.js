#!/usr/bin/env node
/**
 * `make bench`: time to the first output against papermill, measured in one process run.
 *
 * The notebook's first cell prints at once. nbqueue: from the submit (POST /api/jobs, a
 * socket.io client already connected) to the moment that client receives the cell's first
 * `output` event, through the local backend, cold (each job starts its runner and kernel) and
 * with backend.local.warm_kernels (the runner and kernel started before the job). papermill:
 * from spawning `papermill --log-output` to the moment the same printed line appears on its
 * stderr (PYTHONUNBUFFERED, so nothing waits in a buffer). Alternating rounds, medians.
 * Before each round the warm runner is left to finish starting (its CPU time stops growing),
 * so that it takes no CPU from the other measurements.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { io } = require('socket.io-client');
const { PYTHON, REPO, api, code, notebook, median } = require('./common');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MARK = 'first-output-mark';

async function sidecar(warm) {
  const { parseConfig } = require('../dist/config/load');
  const { startSidecar } = require('../dist/server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-bench-first-'));
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    backend: {
      type: 'local',
      local: {
        python: PYTHON,
        log_dir: path.join(dir, 'logs'),
        warm_kernels: warm
      }
    },
    profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
  });
  const s = await startSidecar({
    config,
    dbPath: path.join(dir, 'bench.db'),
    runnerEnv: { PYTHONPATH: path.join(REPO, 'runner-image') }
  });
  return { dir, s };
}

/** Submits `nb`: {first: ms to the first output event, done: resolves when the job ended}. */
function firstOutput(s, nb, cwd) {
  return new Promise((resolve, reject) => {
    const socket = io(s.url, {
      auth: { token: s.token },
      transports: ['websocket']
    });
    let jobId;
    let t0;
    let first;
    socket.on('connect', async () => {
      t0 = performance.now();
      const job = await api(s, 'POST', '/api/jobs', {
        profile: 'cpu',
        notebook: nb,
        cwd
      });
      if (!job.id) return reject(new Error(JSON.stringify(job)));
      jobId = job.id;
      socket.emit('subscribe', { job_id: jobId, after: 0 });
    });
    let ended;
    const check = () => {
      if (!ended) return;
      if (ended.state !== 'succeeded')
        return reject(new Error(`job ${ended.state}: ${ended.reason}`));
      if (first === undefined) return; // its events are still on their way
      socket.close();
      resolve(first);
    };
    socket.on('events', msg => {
      const now = performance.now();
      if (first === undefined && msg.events.some(e => e.type === 'output'))
        first = now - t0;
      check();
    });
    socket.on('job', job => {
      if (job.id !== jobId) return;
      if (!['succeeded', 'failed', 'cancelled'].includes(job.state)) return;
      ended = job;
      check();
    });
  });
}

/** papermill from its spawn to MARK on its log output; resolves once it exited too. */
function papermillFirstOutput(input, output, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      PYTHON,
      [
        '-m',
        'papermill',
        '--log-output',
        '--no-progress-bar',
        '-k',
        'python3',
        input,
        output
      ],
      { cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } }
    );
    let first;
    let seen = '';
    const look = chunk => {
      if (first !== undefined) return;
      seen += chunk.toString();
      if (seen.includes(MARK)) first = performance.now() - t0;
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', status => {
      if (status !== 0 || first === undefined)
        return reject(new Error(`papermill ${status}: ${seen.slice(-2000)}`));
      resolve(first);
    });
  });
}

/** CPU time (ticks) of `pid` and its descendants. */
function treeTicks(pid) {
  const children = new Map();
  const ticks = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      ticks.set(Number(entry), Number(f[11]) + Number(f[12]));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    total += ticks.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Waits for a warm runner, then until it and its kernel stop using CPU (started). */
async function warmSettled(backend) {
  const deadline = Date.now() + 60000;
  let last = -1;
  let still = 0;
  while (Date.now() < deadline) {
    const [pid] = backend.warm?.pids() ?? [];
    if (pid !== undefined) {
      const now = treeTicks(pid);
      still = now === last ? still + 1 : 0;
      last = now;
      if (still >= 3) return;
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('the warm runner did not settle within 60 s');
}

async function main() {
  const cold = await sidecar(false);
  const warm = await sidecar(true);
  const nb = notebook([
    code('a', `print(${JSON.stringify(MARK)}, flush=True)`),
    code('b', 'import time\ntime.sleep(0.2)\nprint("done")')
  ]);
  const input = path.join(cold.dir, 'first.ipynb');
  fs.writeFileSync(input, JSON.stringify(nb));
  const cwd = cold.dir;
  const pm = [];
  const nbqCold = [];
  const nbqWarm = [];
  try {
    // The first warm-kernel job starts cold and leaves a warm runner for the next.
    await firstOutput(warm.s, nb, cwd);
    for (let r = 0; r < ROUNDS; r++) {
      await warmSettled(warm.s.jobs.backend);
      pm.push(
        await papermillFirstOutput(
          input,
          path.join(cold.dir, `pm-${r}.ipynb`),
          cwd
        )
      );
      nbqCold.push(await firstOutput(cold.s, nb, cwd));
      await warmSettled(warm.s.jobs.backend);
      nbqWarm.push(await firstOutput(warm.s, nb, cwd));
    }
  } finally {
    await cold.s.close();
    await warm.s.close();
  }
  const fmt = xs => xs.map(x => x.toFixed(0)).join(', ');
  const ratioCold = median(nbqCold) / median(pm);
  const ratioWarm = median(nbqWarm) / median(pm);
  console.log(
    `time to the first output, median of ${ROUNDS}: papermill ${median(pm).toFixed(0)} ms; nbqueue cold ${median(nbqCold).toFixed(0)} ms (ratio ${ratioCold.toFixed(2)}), warm kernels ${median(nbqWarm).toFixed(0)} ms (ratio ${ratioWarm.toFixed(2)})`
  );
  console.log(`  papermill runs (ms): ${fmt(pm)}`);
  console.log(`  nbqueue cold runs (ms): ${fmt(nbqCold)}`);
  console.log(`  nbqueue warm-kernel runs (ms): ${fmt(nbqWarm)}`);
  console.log(
    `  /proc/loadavg: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`
  );
  console.log(
    ratioWarm <= 1
      ? 'target met: first output with warm kernels, ratio <= 1.00'
      : `target missed: first output with warm kernels, ratio ${ratioWarm.toFixed(2)} is over 1.00`
  );
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
