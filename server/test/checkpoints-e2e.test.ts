/**
 * A job resumes from its checkpoint, end to end on the local backend: real sidecar, real runner,
 * real kernel. The notebook (written with nbformat) saves a checkpoint every step; its runner
 * gets SIGTERM after step 3 (a preemption), its on_preempt callback saves a last one; then the
 * same job runs again and starts from the step after it. The local backend has no restart, so
 * the second run is a runner started for the same job id with a new token, as a restarted pod's.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { hashToken } from '../src/auth/token';
import type { JobView } from '../src/jobs/types';
import {
  PYTHON,
  REPO,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const CELLS = [
  `import json, os, time, nbqueue
latest = nbqueue.checkpoint.latest()
start = json.load(open(latest))["step"] + 1 if latest else 0
said = f"latest {latest and os.path.relpath(latest)} start {start}"
print(said, flush=True)
with open("run.txt", "w") as f:  # this run's own record, next to it
    print(said, file=f)`,
  `step = start
def save(step, how):
    with open("state.json", "w") as f:
        json.dump({"step": step, "how": how}, f)
    nbqueue.checkpoint.save("state.json")

@nbqueue.checkpoint.on_preempt
def last():
    save(step, "preempted")

for step in range(start, 10):
    save(step, "step")
    print("saved", step, flush=True)
    with open("run.txt", "a") as f:
        print("saved", step, file=f)
    if step == 3 and start == 0:
        time.sleep(300)  # the runner is stopped here, as a preemption would`
];

/** The notebook as JupyterLab writes it: nbformat.write. */
function writeNotebook(file: string): Record<string, unknown> {
  execFileSync(PYTHON, [
    '-c',
    `import json, sys, nbformat
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbformat.v4.new_code_cell(s) for s in json.loads(sys.argv[2])]
nbformat.write(nb, sys.argv[1])`,
    file,
    JSON.stringify(CELLS)
  ]);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const outputsOf = (nb: {
  cells: Array<{ outputs: Array<{ text?: string }> }>;
}) => nb.cells.map(c => c.outputs.map(o => o.text ?? '').join(''));

describe('a job resumes from its checkpoint (local backend)', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }],
      checkpoints: { keep: 2, preempt_seconds: 20 }
    });
  });
  afterAll(() => s.close());

  test('SIGTERM after step 3 stores the checkpoint; the next run of the job starts at step 4', async () => {
    const project = tmpDir('nbq-resume-');
    const nb = writeNotebook(path.join(project, 'train.ipynb'));
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: nb,
      notebook_path: 'train.ipynb',
      cwd: project
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    await waitFor(
      async () =>
        (
          await s.api<{ events: Array<{ output?: { text?: string } }> }>(
            'GET',
            `/api/jobs/${id}/events`
          )
        ).body.events.some(e => e.output?.text?.includes('saved 3')),
      'step 3 saved',
      90000
    );
    const pid = (s.store.getJob(id)?.backend_ref as { pid: number }).pid;
    process.kill(pid, 'SIGTERM');
    const stopped = await waitFor(
      async () => {
        const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(job.state)
          ? job
          : null;
      },
      'the stopped job to end',
      60000
    );
    expect(stopped.state).toBe('cancelled');
    const firstRun = (await s.api<never>('GET', `/api/jobs/${id}/result`)).body;
    const [began, steps] = outputsOf(firstRun);
    expect(began).toBe('latest None start 0\n');
    expect(steps).toBe('saved 0\nsaved 1\nsaved 2\nsaved 3\n');
    const kept = (
      await s.api<{ checkpoints: Array<{ seq: number; name: string }> }>(
        'GET',
        `/api/jobs/${id}/files`
      )
    ).body.checkpoints;
    // steps 0..3, then the on_preempt callback's: the newest two are kept.
    expect(kept.map(c => [c.seq, c.name])).toEqual([
      [5, 'state.json'],
      [4, 'state.json']
    ]);
    const last = await fetch(`${s.url}/api/jobs/${id}/checkpoints/5`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(await last.json()).toEqual({ step: 3, how: 'preempted' });

    // Its runner gone (the backend has seen it exit), the same job again, in a fresh folder
    // (a new pod), with a new runner token.
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the first runner to exit');
    await waitFor(
      () => s.store.getTokenHash(id) === null,
      "the first run's token to be revoked"
    );
    const token = 'second-run-token-0123456789abcdef';
    s.store.updateJob(id, {
      state: 'running',
      finished_at: null,
      reason: null,
      token_hash: hashToken(token)
    });
    const cwd = tmpDir('nbq-resume-again-');
    const runner = spawn(PYTHON, ['-m', 'nbqueue.runner'], {
      cwd,
      env: {
        ...process.env,
        NBQUEUE_URL: s.url,
        NBQUEUE_JOB_ID: id,
        NBQUEUE_JOB_TOKEN: token,
        PYTHONPATH: path.join(REPO, 'runner-image')
      },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let log = '';
    runner.stdout.on('data', d => (log += d));
    runner.stderr.on('data', d => (log += d));
    const code = await new Promise<number | null>(r => runner.on('exit', r));
    expect([code, log]).toEqual([0, log]);

    const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
    expect(job.state).toBe('succeeded');
    // The job's result stays its first run's (restarts decide that); this run's own record:
    expect(fs.readFileSync(path.join(cwd, 'run.txt'), 'utf8')).toBe(
      `latest ${path.join('.nbqueue', 'checkpoints', id, 'state.json')} start 4\n` +
        [4, 5, 6, 7, 8, 9].map(n => `saved ${n}\n`).join('')
    );
    const after = (
      await s.api<{ checkpoints: Array<{ seq: number }> }>(
        'GET',
        `/api/jobs/${id}/files`
      )
    ).body.checkpoints;
    expect(after.map(c => c.seq)).toEqual([11, 10]);
    // The restored copy was the runner's; nothing of it stays in the job's folder.
    expect(fs.existsSync(path.join(cwd, '.nbqueue'))).toBe(false);
  }, 180000);
});
