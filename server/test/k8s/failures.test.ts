/**
 * The Kubernetes backend when a job goes wrong: out of memory, an image that cannot be pulled,
 * a deadline, an eviction and a lost node (the job runs again: restarts.test.ts has more);
 * and what a job pod may write. (backend.test.ts says
 * against what.)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { code, notebook, waitFor } from '../helpers';
import {
  GATES,
  MISSING_IMAGE,
  Obj,
  RunnerHarness,
  SidecarProcess,
  terminated
} from './harness';
import {
  attempt,
  backendSuite,
  cluster,
  ended,
  eventsOf,
  evict,
  gated,
  open,
  podOf,
  state,
  submit,
  watchOverlap
} from './jobs';

const gates = GATES;

describe('kubernetes backend', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    ({ sidecar, harness } = await backendSuite());
  });

  afterEach(async () => {
    // A test that failed with its gate closed must not starve the next of GPUs.
    await cluster.clean();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
  });

  test('a pod reported OOMKilled ends the job with "needs more memory"', async () => {
    const id = await submit(
      sidecar,
      'gpu-1',
      gated(path.join(gates, 'never'), 'oom')
    );
    await state(sidecar, id, 'running');
    const pod = await podOf(id);
    await cluster.patchPodStatus(
      pod.metadata.name,
      terminated(pod, 137, 'OOMKilled')
    );
    const job = await ended(sidecar, id);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(
      /ran out of memory \(profile 'gpu-1' allows 32Gi\).*OOMKilled.*choose a larger profile/
    );
  });

  // Only a container has a memory limit and a user of its own (NBQUEUE_K8S_PODS=host: no).
  test("a cell that allocates past the profile's memory ends the job failed, OOMKilled", async () => {
    const id = await submit(
      sidecar,
      'small',
      notebook([
        code('print("allocating")'),
        code("hog = b'x' * (1024 * 2**20)\nprint(len(hog))")
      ])
    );
    expect((await ended(sidecar, id)).state).toBe('failed');
    // The runner may report first, as its kernel's death by SIGKILL: the pod's OOMKilled,
    // which says why, then takes that report's place.
    const oom =
      /ran out of memory \(profile 'small' allows 256Mi\).*OOMKilled.*choose a larger profile/;
    const job = await waitFor(
      async () => {
        const j = await sidecar.job(id);
        return oom.test(j.reason) ? j : null;
      },
      `the OOMKilled reason (job ${id})`,
      30000,
      200
    ).catch(async err => {
      throw new Error(`${err.message}: ${(await sidecar.job(id)).reason}`);
    });
    expect(job.state).toBe('failed');
    const pod = harness.runnerLog(
      [...harness.startedAt.keys()].find(n => n.includes(id.slice(2))) ?? ''
    );
    expect(pod).toContain('--memory 268435456');
  });

  test('the job runs as uid 1000 and can write only its working folder', async () => {
    const id = await submit(
      sidecar,
      'cpu',
      notebook([
        code(
          [
            'import os',
            'print(os.getuid(), os.getgid(), os.getcwd())',
            "open('mine.txt', 'w').write('ok')",
            'refused = []',
            `for p in ('/opt/nbqueue/x', '/etc/x', '/x', ${JSON.stringify(GATES)} + '/x'):`,
            '    try:',
            "        open(p, 'w')",
            '    except OSError:',
            '        refused.append(p)',
            'print(len(refused))'
          ].join('\n')
        )
      ])
    );
    const job = await ended(sidecar, id);
    expect(job.state).toBe('succeeded');
    const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
      .events as Obj[];
    const text = events
      .filter(e => e.type === 'output')
      .map(e => JSON.stringify(e))
      .join('\n');
    // uid, gid and folder, then how many of the four paths were refused (JSON text).
    expect(text).toContain('1000 1000 /work\\n4\\n');
    expect(fs.existsSync(path.join(GATES, 'x'))).toBe(false);
  });

  test('an image that cannot be pulled fails fast with the image named', async () => {
    const t0 = Date.now();
    const id = await submit(
      sidecar,
      'bad-image',
      gated(path.join(gates, 'never'), 'x')
    );
    const job = await ended(sidecar, id, 30000);
    expect(job.state).toBe('failed');
    expect(job.reason).toContain(
      `The runner image ${MISSING_IMAGE} could not be pulled (ImagePullBackOff`
    );
    expect(Date.now() - t0).toBeLessThan(30000);
    await waitFor(
      async () => !(await podOf(id)),
      'its Job deleted',
      30000,
      250
    );
  });

  test('a job past its deadline ends with DeadlineExceeded', async () => {
    const id = await submit(
      sidecar,
      'short',
      gated(path.join(gates, 'never'), 'deadline')
    );
    const job = await ended(sidecar, id, 60000);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/limit of 3 s.*DeadlineExceeded/);
  });

  test('an evicted job runs again under its id, first in its queue, and succeeds on attempt 2', async () => {
    const gate = path.join(gates, 'evict');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'evicted'));
    await state(sidecar, id, 'running');
    const overlap = watchOverlap(id);
    const first = await evict(id);
    const again = await attempt(sidecar, id, 2);
    expect(again.reason).toMatch(
      /^Attempt 2 of 2, restarted after eviction\. Its pod was taken off node gpu-node-\d \(EvictionByEvictionAPI/
    );
    expect(again.restarts).toEqual([
      expect.objectContaining({ attempt: 1, cause: 'eviction' })
    ]);
    await state(sidecar, id, 'running');
    // The second attempt's own Job, created once the first attempt's was gone.
    const pod = await podOf(id);
    expect(pod.metadata.uid).not.toBe(first.metadata.uid);
    expect(pod.metadata.labels['batch.kubernetes.io/job-name']).toMatch(/-a2$/);
    open(gate);
    const done = await ended(sidecar, id);
    expect(done).toMatchObject({
      state: 'succeeded',
      attempt: 2,
      max_attempts: 2
    });
    const events = await eventsOf(sidecar, id);
    const marker = events.findIndex(e => e.type === 'attempt');
    expect(events[marker]).toMatchObject({
      attempt: 2,
      max_attempts: 2,
      cause: 'eviction'
    });
    expect(JSON.stringify(events.slice(marker))).toContain('gate open');
    const seen = await overlap.stop();
    expect(seen).toMatchObject({ maxJobs: 1, maxPods: 1 });
    expect(seen.jobNames).toHaveLength(2);
  });

  test('a job whose node is lost runs again under its id on another node', async () => {
    const gate = path.join(gates, 'node-loss');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'node loss'));
    await state(sidecar, id, 'running');
    const lostNode = (await podOf(id)).spec.nodeName as string;
    const env = path.join(cluster.dir, 'env');
    const apply = path.resolve(__dirname, '../../../k8s/controlplane/apply.js');
    const overlap = watchOverlap(id);
    try {
      expect(
        (await cluster.call('DELETE', `/api/v1/nodes/${lostNode}`)).status
      ).toBe(200);
      // The pod garbage collector deletes pods bound to a node that is gone (after 40 s).
      const again = await attempt(sidecar, id, 2);
      expect(again.reason).toContain(
        `Attempt 2 of 2, restarted after node loss. Its pod was taken off node ${lostNode}`
      );
      await state(sidecar, id, 'running');
      expect((await podOf(id)).spec.nodeName).not.toBe(lostNode);
      open(gate);
      expect(await ended(sidecar, id)).toMatchObject({
        state: 'succeeded',
        attempt: 2
      });
      expect(await overlap.stop()).toMatchObject({ maxJobs: 1, maxPods: 1 });
    } finally {
      execFileSync('node', [
        apply,
        env,
        path.resolve(__dirname, '../../../k8s/controlplane/nodes.yaml')
      ]);
      await waitFor(
        () => {
          try {
            execFileSync('node', [apply, env, '--ready-nodes', '6']);
            return true;
          } catch {
            return false;
          }
        },
        'the lost node back and Ready',
        60000,
        500
      );
    }
  }, 240000);
});
