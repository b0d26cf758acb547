/**
 * What the benchmarks share: notebooks built from cell sources, percentiles, REST calls to a
 * sidecar started in the same process, and running one job to its end over socket.io.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { io } = require('socket.io-client');

const REPO = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

const code = (id, source) => ({
  cell_type: 'code',
  id,
  metadata: {},
  source,
  outputs: [],
  execution_count: null
});

const notebook = cells => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {
    kernelspec: {
      name: 'python3',
      display_name: 'Python 3',
      language: 'python'
    }
  },
  cells
});

/** The p-th percentile of an ascending array. */
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function api(s, method, route, body) {
  const res = await fetch(`${s.url}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${s.token}`,
      'Content-Type': 'application/json'
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  return res.json();
}

/**
 * Submits `nb` on the cpu profile and resolves with `{job, ms}` once the job ended and the
 * socket delivered every one of its events (`onEvent(event, arrivalMs)` for each).
 */
function runJob(s, nb, onEvent) {
  return new Promise((resolve, reject) => {
    const socket = io(s.url, {
      auth: { token: s.token },
      transports: ['websocket']
    });
    let jobId;
    let last = 0;
    let ended;
    const t0 = performance.now();
    const check = () => {
      if (ended && last >= ended.last_seq) {
        socket.close();
        resolve({ job: ended, ms: performance.now() - t0 });
      }
    };
    socket.on('connect', async () => {
      const job = await api(s, 'POST', '/api/jobs', {
        profile: 'cpu',
        notebook: nb,
        cwd: os.tmpdir()
      });
      if (!job.id) return reject(new Error(JSON.stringify(job)));
      jobId = job.id;
      socket.emit('subscribe', { job_id: jobId, after: 0 });
    });
    socket.on('events', msg => {
      const now = Date.now();
      for (const ev of msg.events) {
        if (ev.seq <= last) continue;
        last = ev.seq;
        onEvent?.(ev, now);
      }
      check();
    });
    socket.on('job', job => {
      if (
        job.id === jobId &&
        ['succeeded', 'failed', 'cancelled'].includes(job.state)
      ) {
        ended = job;
        check();
      }
    });
  });
}

/** A sidecar in this process: local backend, one `cpu` slot, runners from the source tree. */
async function startBenchSidecar() {
  const { parseConfig } = require('../dist/config/load');
  const { startSidecar } = require('../dist/server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-bench-'));
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    backend: {
      type: 'local',
      local: { python: PYTHON, log_dir: path.join(dir, 'logs') }
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

module.exports = {
  startBenchSidecar,
  REPO,
  PYTHON,
  code,
  notebook,
  pct,
  median,
  mb,
  api,
  runJob
};
