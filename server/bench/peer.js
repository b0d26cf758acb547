#!/usr/bin/env node
/**
 * `make bench`: nbqueue against jupyter-scheduler, the tool users switch from, on the same three
 * notebooks (runner-image/bench/peer_notebooks.py writes them with nbformat), same machine,
 * alternating which goes first each round. Two figures per notebook and side:
 *
 * (a) submit -> first output visible. nbqueue: the first `output` event on socket.io.
 *     jupyter-scheduler has no live outputs: its job writes the output notebook once the last cell
 *     ran (DefaultExecutionManager.create_output_files), so its first output is visible when an
 *     output .ipynb with outputs is readable in its staging folder (polled every POLL_MS).
 * (b) submit -> finished. nbqueue: the job `succeeded` (its result notebook is stored before the
 *     runner's finish is taken). jupyter-scheduler: GET /scheduler/jobs/{id} says COMPLETED
 *     (polled every POLL_MS, as its UI polls).
 *
 * jupyter-scheduler runs as a Jupyter server extension from its own virtualenv, made from the
 * pinned runner-image/bench/jupyter-scheduler.lock in ~/.cache/nbqueue/jupyter-scheduler-venv and
 * reused while the lock is unchanged. Both sides run the kernel on the repository's .venv Python;
 * both servers are up before the clocks start. nbqueue: `nbqueue serve` as its own process, local
 * backend, one cpu slot.
 *
 * Run: node server/bench/peer.js  (BENCH_ROUNDS, default 5; BENCH_PEER_VENV for another venv;
 * BENCH_KEEP=1 keeps its temporary folder: both servers' logs, jupyter-scheduler's database)
 */
const { spawn, spawnSync, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { io } = require('socket.io-client');
const { REPO, PYTHON, median } = require('./common');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const POLL_MS = 20;
const LOCK = path.join(REPO, 'runner-image', 'bench', 'jupyter-scheduler.lock');
const VENV =
  process.env.BENCH_PEER_VENV ??
  path.join(os.homedir(), '.cache', 'nbqueue', 'jupyter-scheduler-venv');
const TOKEN = 'peer-bench-token-0123456789abcdef';
const NAMES = ['quick', 'loop', 'frame_plot'];
const sleep = ms => new Promise(r => setTimeout(r, ms));

/** The jupyter-scheduler venv, (re)made when the lock changed since it was made. */
function ensureVenv() {
  const want = crypto
    .createHash('sha256')
    .update(fs.readFileSync(LOCK))
    .digest('hex');
  const stamp = path.join(VENV, '.nbqueue-lock-sha256');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  console.log(`making ${VENV} from ${path.relative(REPO, LOCK)} (once)`);
  fs.rmSync(VENV, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(
    path.join(VENV, 'bin', 'pip'),
    ['install', '-q', '--disable-pip-version-check', '-r', LOCK],
    { stdio: 'inherit' }
  );
  fs.writeFileSync(stamp, want);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(url, headers, what, child, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${what} did not start; see its log`);
    await sleep(100);
  }
}

/** SIGTERM to the child's process group; resolves once it exited (at most 15 s). */
async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  await Promise.race([exited, sleep(15_000)]);
}

/** jupyter-scheduler: the Jupyter server with its extension, kernels on the repo's Python. */
async function startScheduler(dir, notebooks) {
  const root = path.join(dir, 'scheduler-root');
  const data = path.join(dir, 'jupyter-data');
  const kernel = path.join(dir, 'kernels-path', 'kernels', 'python3');
  fs.mkdirSync(kernel, { recursive: true });
  fs.writeFileSync(
    path.join(kernel, 'kernel.json'),
    JSON.stringify({
      argv: [PYTHON, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
      display_name: 'Python 3',
      language: 'python'
    })
  );
  fs.mkdirSync(root);
  fs.mkdirSync(data);
  for (const nb of notebooks)
    fs.copyFileSync(nb, path.join(root, path.basename(nb)));
  const port = await freePort();
  const staging = path.join(dir, 'staging');
  const log = fs.openSync(path.join(dir, 'jupyter-server.log'), 'w');
  const child = spawn(
    path.join(VENV, 'bin', 'jupyter'),
    [
      'server',
      '--no-browser',
      '--allow-root', // CI runs as root; refused without it
      `--port=${port}`,
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.token=${TOKEN}`,
      `--ServerApp.root_dir=${root}`,
      '--SchedulerApp.environment_manager_class=jupyter_scheduler.environments.StaticEnvironmentManager',
      `--Scheduler.staging_path=${staging}`
    ],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        JUPYTER_PATH: path.join(dir, 'kernels-path'),
        JUPYTER_DATA_DIR: data,
        JUPYTER_CONFIG_DIR: path.join(dir, 'jupyter-config'),
        JUPYTER_RUNTIME_DIR: path.join(dir, 'jupyter-runtime')
      }
    }
  );
  const url = `http://127.0.0.1:${port}`;
  const headers = { Authorization: `token ${TOKEN}` };
  await waitFor(
    `${url}/scheduler/runtime_environments`,
    headers,
    'jupyter server',
    child
  );
  return { child, url, headers, staging };
}

/** The output notebook in the job's staging folder, once it is readable and has outputs. */
function schedulerOutput(staging, jobId, input) {
  const folder = path.join(staging, jobId);
  let names;
  try {
    names = fs.readdirSync(folder);
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.endsWith('.ipynb') || name === input) continue;
    try {
      const nb = JSON.parse(fs.readFileSync(path.join(folder, name), 'utf8'));
      if (nb.cells.some(c => (c.outputs ?? []).length > 0)) return nb;
    } catch {
      // being written
    }
  }
  return null;
}

async function runScheduler(js, name) {
  const input = `${name}.ipynb`;
  const t0 = performance.now();
  const res = await fetch(`${js.url}/scheduler/jobs`, {
    method: 'POST',
    headers: { ...js.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      input_uri: input,
      runtime_environment_name: 'jupyterlab-env',
      name,
      output_formats: ['ipynb']
    })
  });
  const { job_id: id } = await res.json();
  if (!id) throw new Error(`jupyter-scheduler refused the job: ${res.status}`);
  let first;
  for (;;) {
    if (first === undefined && schedulerOutput(js.staging, id, input))
      first = performance.now() - t0;
    const job = await (
      await fetch(`${js.url}/scheduler/jobs/${id}`, { headers: js.headers })
    ).json();
    // A new job's record says STOPPED (the column's default) until its process starts.
    if (job.status === 'FAILED' || (job.status === 'STOPPED' && job.start_time))
      throw new Error(
        `jupyter-scheduler job ${name} ${job.status}: ${job.status_message}`
      );
    if (performance.now() - t0 > 300_000)
      throw new Error(
        `jupyter-scheduler job ${name} still ${job.status} after 300 s`
      );
    if (job.status === 'COMPLETED') {
      const done = performance.now() - t0;
      if (first === undefined && schedulerOutput(js.staging, id, input))
        first = done;
      if (first === undefined)
        throw new Error(`no output notebook for ${name}`);
      return { first, done };
    }
    await sleep(POLL_MS);
  }
}

/** `nbqueue serve` as its own process: local backend, one cpu slot, the repo's runner. */
async function startNbqueue(dir) {
  const port = await freePort();
  const home = path.join(dir, 'nbqueue-home');
  fs.mkdirSync(home);
  const config = path.join(home, 'config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      server: { host: '127.0.0.1', port },
      auth: { token: TOKEN, user: 'bench' },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '2Gi', capacity: 1 }],
      backend: {
        type: 'local',
        local: { python: PYTHON, log_dir: path.join(home, 'logs') }
      }
    })
  );
  const log = fs.openSync(path.join(dir, 'nbqueue-serve.log'), 'w');
  const env = { ...process.env, HOME: home, NBQUEUE_TOKEN: TOKEN };
  delete env.NBQUEUE_CONFIG;
  env.PYTHONPATH = [path.join(REPO, 'runner-image'), process.env.PYTHONPATH]
    .filter(Boolean)
    .join(path.delimiter);
  const child = spawn(
    'node',
    [path.join(REPO, 'server', 'bin', 'nbqueue.js'), 'serve', '-c', config],
    { cwd: home, detached: true, stdio: ['ignore', log, log], env }
  );
  const url = `http://127.0.0.1:${port}`;
  const headers = { Authorization: `Bearer ${TOKEN}` };
  await waitFor(`${url}/api/info`, headers, 'nbqueue serve', child);
  const work = path.join(dir, 'nbqueue-work');
  fs.mkdirSync(work);
  return { child, url, headers, work };
}

function runNbqueue(nq, nb) {
  return new Promise((resolve, reject) => {
    const socket = io(nq.url, {
      auth: { token: TOKEN },
      transports: ['websocket']
    });
    let t0;
    let jobId;
    let first;
    const fail = err => {
      socket.close();
      reject(err);
    };
    socket.on('connect', async () => {
      t0 = performance.now();
      const res = await fetch(`${nq.url}/api/jobs`, {
        method: 'POST',
        headers: { ...nq.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ profile: 'cpu', notebook: nb, cwd: nq.work })
      });
      const job = await res.json();
      if (!job.id) return fail(new Error(JSON.stringify(job)));
      jobId = job.id;
      socket.emit('subscribe', { job_id: jobId, after: 0 });
    });
    socket.on('events', msg => {
      if (first === undefined && msg.events.some(e => e.type === 'output'))
        first = performance.now() - t0;
    });
    socket.on('job', job => {
      if (job.id !== jobId) return;
      if (job.state === 'failed' || job.state === 'cancelled')
        return fail(new Error(`nbqueue job ${job.state}: ${job.reason}`));
      if (job.state !== 'succeeded') return;
      const done = performance.now() - t0;
      socket.close();
      if (first === undefined) return reject(new Error('no output event'));
      resolve({ first, done });
    });
  });
}

async function main() {
  ensureVenv();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-bench-peer-'));
  const nbDir = path.join(dir, 'notebooks');
  const written = spawnSync(
    PYTHON,
    [path.join(REPO, 'runner-image', 'bench', 'peer_notebooks.py'), nbDir],
    { encoding: 'utf8' }
  );
  if (written.status !== 0) throw new Error(written.stderr);
  const files = NAMES.map(n => path.join(nbDir, `${n}.ipynb`));
  let js;
  let nq;
  try {
    js = await startScheduler(dir, files);
    nq = await startNbqueue(dir);
    const times = {};
    for (const name of NAMES) times[name] = { nbqueue: [], scheduler: [] };
    const load = fs.readFileSync('/proc/loadavg', 'utf8').trim();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, name] of NAMES.entries()) {
        const nb = JSON.parse(fs.readFileSync(files[i], 'utf8'));
        const sides = [
          ['nbqueue', () => runNbqueue(nq, nb)],
          ['scheduler', () => runScheduler(js, name)]
        ];
        if (r % 2 === 1) sides.reverse();
        for (const [side, run] of sides) times[name][side].push(await run());
      }
      process.stdout.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
    const fmt = ms => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `\nnbqueue vs jupyter-scheduler, ${ROUNDS} rounds, medians (ratio: jupyter-scheduler / nbqueue)`
    );
    console.log(
      '| notebook | first output: nbqueue | jupyter-scheduler | ratio | finished: nbqueue | jupyter-scheduler | ratio |'
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const name of NAMES) {
      const m = (side, key) => median(times[name][side].map(t => t[key]));
      const [f1, f2, d1, d2] = [
        m('nbqueue', 'first'),
        m('scheduler', 'first'),
        m('nbqueue', 'done'),
        m('scheduler', 'done')
      ];
      console.log(
        `| \`${name}\` | ${fmt(f1)} | ${fmt(f2)} | ${(f2 / f1).toFixed(2)} | ${fmt(d1)} | ${fmt(d2)} | ${(d2 / d1).toFixed(2)} |`
      );
    }
    console.log(
      `/proc/loadavg before: ${load}; after: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`
    );
  } finally {
    await Promise.all([stop(js?.child), stop(nq?.child)]);
    if (!process.env.BENCH_KEEP)
      fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(err => {
  console.error(err);
  process.exitCode = 1;
});
