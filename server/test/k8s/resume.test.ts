/**
 * The acceptance test of checkpoints on Kubernetes: a preempted job resumes from its
 * checkpoint. The notebook (written with nbformat) saves a checkpoint every step and registers
 * an on_preempt callback; its pod is evicted mid-run (as restarts.test.ts does); the same job
 * runs again as attempt 2, restores the latest checkpoint and starts at the step after it.
 * Throughout, the cluster never holds two Jobs or pods of the job.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON, tmpDir, waitFor } from '../helpers';
import { Obj, RunnerHarness, SidecarProcess, freePort } from './harness';
import {
  attempt,
  cluster,
  ended,
  eventsOf,
  evict,
  state,
  submit,
  watchOverlap
} from './jobs';

const CELL = `import nbqueue, json, os, time
start, how = 0, None
if (ckpt := nbqueue.checkpoint.latest()):
    saved = json.load(open(ckpt))
    start, how = saved["step"] + 1, saved["how"]
print("starting at step", start, "from", how, flush=True)
step = start

@nbqueue.checkpoint.on_preempt
def last():
    with open("preempted.json", "w") as f:
        json.dump({"step": step, "how": "preempted"}, f)
    nbqueue.checkpoint.save("preempted.json")
    print("preempted at step", step, flush=True)

for step in range(start, 8):
    with open("state.json", "w") as f:
        json.dump({"step": step, "how": "step"}, f)
    nbqueue.checkpoint.save("state.json")
    print("step", step, flush=True)
    time.sleep(1)`;

/** The notebook as JupyterLab writes it: nbformat.write. */
function writeNotebook(): Record<string, unknown> {
  const file = path.join(tmpDir('nbq-k8s-resume-'), 'train.ipynb');
  execFileSync(PYTHON, [
    '-c',
    `import sys, nbformat
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbformat.v4.new_code_cell(sys.argv[2])]
nbformat.write(nb, sys.argv[1])`,
    file,
    CELL
  ]);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const text = (e: Obj): string => e.output?.text ?? '';

describe('resume', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(
      await freePort(),
      {},
      [
        {
          name: 'gpu-1',
          cpus: 8,
          gpus: 1,
          memory: '32Gi',
          capacity: 50,
          kubernetes: { max_restarts: 1 }
        }
      ],
      // Every checkpoint kept, so the test sees which one attempt 2 restored.
      { config: { checkpoints: { keep: 50, preempt_seconds: 20 } } }
    );
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterAll(async () => {
    await cluster.clean();
    await harness?.stop();
    await sidecar?.stop();
  });

  test('a preempted job resumes from its checkpoint', async () => {
    const id = await submit(sidecar, 'gpu-1', writeNotebook(), 'train.ipynb');
    await state(sidecar, id, 'running');
    const overlap = watchOverlap(id);
    await waitFor(
      async () =>
        (
          await sidecar.api('GET', `/api/jobs/${id}/events?limit=10000`)
        ).body.events.some((e: Obj) => /^step [23]\n/.test(text(e))),
      'attempt 1 to print step 2',
      90000,
      100
    );
    await evict(id);
    await attempt(sidecar, id, 2);
    const done = await ended(sidecar, id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2 });

    const events = await eventsOf(sidecar, id);
    const first = events.findIndex(e =>
      text(e).includes('starting at step 0 from None')
    );
    const marker = events.findIndex(e => e.type === 'attempt');
    expect(events.filter(e => e.type === 'attempt')).toEqual([
      expect.objectContaining({ attempt: 2, cause: 'eviction' })
    ]);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(marker).toBeGreaterThan(first);
    const resumed = events
      .slice(marker + 1)
      .map(text)
      .join('')
      .match(/starting at step (\d+) from (\w+)/);
    expect(resumed).not.toBeNull();
    const n = Number(resumed?.[1]);
    expect(n).toBeGreaterThanOrEqual(3);

    // Every checkpoint of both attempts, oldest first: attempt 1's (each step, then its
    // on_preempt callback's, stored while its pod was terminating), then attempt 2's steps.
    const listed = (await sidecar.api('GET', `/api/jobs/${id}/files`)).body
      .checkpoints as Obj[];
    const saved: Obj[] = [];
    for (const c of [...listed].reverse()) {
      const res = await sidecar.api(
        'GET',
        `/api/jobs/${id}/checkpoints/${c.seq}`
      );
      expect(res.status).toBe(200);
      const body =
        typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
      saved.push({ name: c.name, ...body });
    }
    const second = saved.slice(saved.length - (8 - n));
    expect(second).toEqual(
      [...Array(8 - n).keys()].map(i => ({
        name: 'state.json',
        step: n + i,
        how: 'step'
      }))
    );
    // Attempt 2 restored attempt 1's newest checkpoint: the one before its own.
    const restored = saved[saved.length - (8 - n) - 1];
    expect(restored).toMatchObject({ step: n - 1, how: resumed?.[2] });
    expect(saved).toContainEqual(
      expect.objectContaining({ name: 'preempted.json', how: 'preempted' })
    );
    expect(await overlap.stop()).toMatchObject({ maxJobs: 1, maxPods: 1 });
  }, 120000);
});
