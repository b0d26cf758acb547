/**
 * The Kubernetes backend against a real control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler built from source, kwok's fake GPU and CPU pools),
 * with a sidecar that holds only deploy/kubernetes/rbac.yaml's permissions and real runners.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { code, notebook, waitFor } from '../helpers';
import {
  Cluster,
  GATES,
  JOBS_NS,
  MISSING_IMAGE,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort,
  terminated
} from './harness';

const cluster = new Cluster();
const gates = GATES;

/** A notebook that prints, then waits until the test opens its gate (a file). */
function gated(gate: string, tag: string): Record<string, unknown> {
  return notebook([
    code(`print("hello from ${tag}")`),
    code(
      `import os, time\nwhile not os.path.exists(${JSON.stringify(gate)}):\n    time.sleep(0.1)\nprint("gate open")`
    )
  ]);
}

function open(gate: string): void {
  fs.writeFileSync(gate, '');
}

async function submit(
  s: SidecarProcess,
  profile: string,
  nb: Record<string, unknown>,
  name = 'My Notebook (v2) ✓.ipynb'
): Promise<string> {
  const res = await s.api('POST', '/api/jobs', { profile, notebook: nb, name });
  if (res.status !== 201)
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function ended(
  s: SidecarProcess,
  id: string,
  timeoutMs = 120000
): Promise<Obj> {
  return waitFor(
    async () => {
      const job = await s.job(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    },
    `job ${id} to end`,
    timeoutMs,
    200
  );
}

async function state(
  s: SidecarProcess,
  id: string,
  want: string,
  timeoutMs = 90000
): Promise<Obj> {
  return waitFor(
    async () => {
      const job = await s.job(id);
      return job.state === want ? job : null;
    },
    `job ${id} to be ${want}`,
    timeoutMs,
    200
  );
}

const podOf = async (id: string): Promise<Obj | undefined> =>
  (await cluster.pods()).find(
    p => p.metadata.labels['nbqueue.io/job-id'] === id
  );

describe('kubernetes backend', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(
      await freePort(),
      { ttl_seconds_after_finished: 4 },
      [
        {
          name: 'cpu',
          cpus: 2,
          gpus: 0,
          memory: '4Gi',
          capacity: 50,
          kubernetes: {
            node_selector: { 'nbqueue.io/pool': 'cpu' },
            tolerations: []
          }
        },
        { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 50 },
        {
          name: 'bad-image',
          cpus: 1,
          gpus: 0,
          memory: '1Gi',
          capacity: 5,
          kubernetes: {
            node_selector: { 'nbqueue.io/pool': 'cpu' },
            tolerations: [],
            image: MISSING_IMAGE
          }
        },
        {
          name: 'small',
          cpus: 1,
          gpus: 0,
          memory: '256Mi',
          capacity: 5,
          kubernetes: {
            node_selector: { 'nbqueue.io/pool': 'cpu' },
            tolerations: []
          }
        },
        {
          name: 'short',
          cpus: 1,
          gpus: 0,
          memory: '1Gi',
          capacity: 5,
          kubernetes: {
            node_selector: { 'nbqueue.io/pool': 'cpu' },
            tolerations: [],
            active_deadline_seconds: 3
          }
        }
      ]
    );
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterEach(async () => {
    // A test that failed with its gate closed must not starve the next of GPUs.
    await cluster.clean();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
  });

  test('a GPU job lands on the ML pool with its limits, tolerations and token Secret, and its outputs stream back', async () => {
    const gate = path.join(gates, 'placement');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'the gpu pool'));
    const running = await state(sidecar, id, 'running');
    expect(running.reason).toBeNull();

    const [job] = (await cluster.jobs()).filter(
      j => j.metadata.labels['nbqueue.io/job-id'] === id
    );
    expect(job.metadata.name).toMatch(/^nbq-alice-my-notebook-v2-j-[0-9a-f]+$/);
    expect(job.metadata.name.length).toBeLessThanOrEqual(52);
    expect(job.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'nbqueue',
      'nbqueue.io/user': 'alice',
      'nbqueue.io/profile': 'gpu-1'
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 4,
      activeDeadlineSeconds: 86400
    });
    const pod = await podOf(id);
    expect(pod.spec.nodeName).toMatch(/^gpu-node-/);
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.nodeSelector).toEqual({ 'nbqueue.io/pool': 'ml' });
    expect(pod.spec.tolerations).toEqual(
      expect.arrayContaining([
        {
          key: 'nvidia.com/gpu',
          operator: 'Equal',
          value: 'present',
          effect: 'NoSchedule'
        }
      ])
    );
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000
    });
    const c = pod.spec.containers[0];
    expect(c.resources.limits).toEqual({
      cpu: '8',
      memory: '32Gi',
      'nvidia.com/gpu': '1'
    });
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false
    });
    const tokenEnv = c.env.find((e: Obj) => e.name === 'NBQUEUE_JOB_TOKEN');
    expect(tokenEnv.valueFrom.secretKeyRef.name).toBe(
      `${job.metadata.name}-token`
    );
    const secret = (await cluster.secrets()).find(
      x => x.metadata.name === `${job.metadata.name}-token`
    );
    expect(secret.metadata.ownerReferences[0]).toMatchObject({
      kind: 'Job',
      uid: job.metadata.uid
    });

    open(gate);
    const done = await ended(sidecar, id);
    expect(done.state).toBe('succeeded');
    const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
      .events as Obj[];
    const text = JSON.stringify(events);
    expect(text).toContain('hello from the gpu pool');
    expect(text).toContain('gate open');
    expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));

    // Finished Jobs go after their TTL (the controller manager's ttl-after-finished
    // controller), and the garbage collector takes the pod and token Secret with them.
    await waitFor(
      async () =>
        !(await cluster.jobs()).some(
          j => j.metadata.name === job.metadata.name
        ) &&
        !(await cluster.secrets()).some(
          x => x.metadata.name === secret.metadata.name
        ) &&
        !(await podOf(id)),
      'the finished Job, its pod and Secret to be deleted after the TTL',
      60000,
      250
    );
  });

  test('a CPU profile goes to the CPU pool', async () => {
    const gate = path.join(gates, 'cpu');
    open(gate);
    const id = await submit(sidecar, 'cpu', gated(gate, 'the cpu pool'));
    await waitFor(
      async () => (await podOf(id))?.spec.nodeName,
      'the pod to be placed'
    );
    const pod = await podOf(id);
    expect(pod.spec.nodeName).toMatch(/^cpu-node-/);
    expect(
      pod.spec.containers[0].resources.limits['nvidia.com/gpu']
    ).toBeUndefined();
    expect((await ended(sidecar, id)).state).toBe('succeeded');
  });

  test('20 one-GPU jobs on 16 GPUs: 16 Jobs, 4 queued, no Pending pod; the rest start as jobs finish', async () => {
    const gate = path.join(gates, 'twenty');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        await submit(sidecar, 'gpu-1', gated(gate, `job ${i}`), `n${i}`)
      );
    // All runners share this host, where two kernels starting at once can still race for
    // the same free port (jupyter_client picks ports by binding and releasing them): such a
    // job fails "The kernel could not start" and a queued one takes its place. Pods have
    // their own network, so that is an artifact of the harness; the admission invariants
    // below hold either way.
    const harnessRace = /The kernel could not start/;
    let views: Obj[] = [];
    let unfinished: Obj[] = [];
    await waitFor(
      async () => {
        views = await Promise.all(ids.map(id => sidecar.job(id)));
        const over = views.filter(v => v.finished_at).length;
        const running = views.filter(v => v.state === 'running').length;
        // Jobs whose pods still run (a Job that just ended may still lack its condition).
        unfinished = (await cluster.jobs()).filter(
          j =>
            ids.includes(j.metadata.labels['nbqueue.io/job-id']) &&
            !j.metadata.deletionTimestamp &&
            !(j.status?.conditions ?? []).some(
              (c: Obj) =>
                ['Complete', 'Failed'].includes(c.type) && c.status === 'True'
            )
        );
        return running === Math.min(16, 20 - over) && unfinished.length === 16;
      },
      '16 runners connected, 16 Jobs running',
      180000,
      500
    );
    const over = views.filter(v => v.finished_at);
    expect(over.filter(v => !harnessRace.test(v.reason))).toEqual([]);
    expect(unfinished).toHaveLength(16);
    const pods = await cluster.pods();
    expect(pods.filter(p => p.status?.phase === 'Pending')).toHaveLength(0);
    expect([...harness.unschedulable]).toEqual([]);
    const queued = views.filter(v => v.state === 'queued');
    expect(queued).toHaveLength(4 - over.length);
    expect(queued.map(v => v.position).sort()).toEqual(
      queued.map((_, i) => i + 1)
    );

    open(gate);
    const done = await Promise.all(ids.map(id => ended(sidecar, id, 240000)));
    expect(
      done.filter(d => d.state !== 'succeeded' && !harnessRace.test(d.reason))
    ).toEqual([]);
    expect(
      done.filter(d => d.state === 'succeeded').length
    ).toBeGreaterThanOrEqual(16);
    // The four that waited started only after others had finished.
    const starts = done
      .map(d => Date.parse(d.started_at))
      .sort((a, b) => a - b);
    const firstEnd = Math.min(...done.map(d => Date.parse(d.finished_at)));
    expect(starts.slice(16).every(t => t >= firstEnd)).toBe(true);
  }, 420000);

  test('cancel deletes the Job, its pod and its Secret', async () => {
    const id = await submit(
      sidecar,
      'gpu-1',
      gated(path.join(gates, 'never'), 'cancel')
    );
    await state(sidecar, id, 'running');
    const name = (await podOf(id)).metadata.labels['job-name'];
    expect((await sidecar.api('POST', `/api/jobs/${id}/cancel`)).status).toBe(
      200
    );
    const job = await ended(sidecar, id);
    expect(job.state).toBe('cancelled');
    await waitFor(
      async () =>
        !(await cluster.jobs()).some(j => j.metadata.name === name) &&
        !(await podOf(id)) &&
        !(await cluster.secrets()).some(
          x => x.metadata.name === `${name}-token`
        ),
      'the Job, pod and Secret gone',
      30000,
      250
    );
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

  test('an evicted job is queued again once and then runs to the end', async () => {
    const gate = path.join(gates, 'evict');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'evicted'));
    await state(sidecar, id, 'running');
    const pod = await podOf(id);
    const res = await cluster.call(
      'POST',
      `/api/v1/namespaces/${JOBS_NS}/pods/${pod.metadata.name}/eviction`,
      {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod.metadata.name, namespace: JOBS_NS }
      }
    );
    expect(res.status).toBe(201);
    const first = await ended(sidecar, id);
    expect(first.state).toBe('failed');
    const again = /Queued again as job (j-[0-9a-f]+)/.exec(first.reason)?.[1];
    expect(first.reason).toMatch(/taken off node gpu-node-\d/);
    expect(again).toBeDefined();
    open(gate);
    const second = await ended(sidecar, again as string);
    expect(second.state).toBe('succeeded');
  });

  test('a job whose node is lost is queued again and runs on another node', async () => {
    const gate = path.join(gates, 'node-loss');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'node loss'));
    await state(sidecar, id, 'running');
    const lostNode = (await podOf(id)).spec.nodeName as string;
    const env = path.join(cluster.dir, 'env');
    const apply = path.resolve(__dirname, '../../../k8s/controlplane/apply.js');
    try {
      expect(
        (await cluster.call('DELETE', `/api/v1/nodes/${lostNode}`)).status
      ).toBe(200);
      // The pod garbage collector deletes pods bound to a node that is gone (after 40 s).
      const first = await ended(sidecar, id, 120000);
      expect(first.state).toBe('failed');
      expect(first.reason).toContain(`off node ${lostNode}`);
      const copy = /Queued again as job (j-[0-9a-f]+)/.exec(
        first.reason
      )?.[1] as string;
      expect(copy).toBeDefined();
      await state(sidecar, copy, 'running');
      expect((await podOf(copy)).spec.nodeName).not.toBe(lostNode);
      open(gate);
      expect((await ended(sidecar, copy)).state).toBe('succeeded');
    } finally {
      execFileSync('node', [
        apply,
        env,
        path.resolve(__dirname, '../../../k8s/controlplane/nodes.yaml')
      ]);
      await waitFor(
        () => {
          try {
            execFileSync('node', [apply, env, '--ready-nodes', '4']);
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

describe('kubernetes backend, continued', () => {
  test('a profile no node can hold stays queued, with a reason, and never becomes a Job', async () => {
    const sidecar = new SidecarProcess(await freePort(), {}, [
      { name: 'huge', cpus: 8, gpus: 16, memory: '32Gi', capacity: 5 }
    ]);
    await sidecar.start();
    try {
      const id = await submit(
        sidecar,
        'huge',
        gated(path.join(gates, 'never'), 'huge')
      );
      const job = await waitFor(
        async () => {
          const j = await sidecar.job(id);
          return j.reason ? j : null;
        },
        'a reason on the queued job',
        30000,
        200
      );
      expect(job.state).toBe('queued');
      expect(job.reason).toMatch(
        /No ready node of the pool \(nbqueue.io\/pool=ml\) is big enough for profile 'huge' \(8 cpu, 32Gi memory, 16 nvidia.com\/gpu\)/
      );
      expect(
        (await cluster.jobs()).filter(
          j => j.metadata.labels['nbqueue.io/job-id'] === id
        )
      ).toHaveLength(0);
      expect((await sidecar.api('POST', `/api/jobs/${id}/cancel`)).status).toBe(
        200
      );
    } finally {
      await sidecar.stop();
    }
  });

  test('a job evicted a second time is not queued again (requeue_on_eviction: 1)', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    const evict = async (id: string): Promise<Obj> => {
      await state(sidecar, id, 'running');
      const pod = await podOf(id);
      const res = await cluster.call(
        'POST',
        `/api/v1/namespaces/${JOBS_NS}/pods/${pod.metadata.name}/eviction`,
        {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: pod.metadata.name, namespace: JOBS_NS }
        }
      );
      expect(res.status).toBe(201);
      return ended(sidecar, id);
    };
    try {
      const first = await evict(
        await submit(
          sidecar,
          'gpu-1',
          gated(path.join(gates, 'never'), 'twice')
        )
      );
      const copy = /Queued again as job (j-[0-9a-f]+)/.exec(
        first.reason
      )?.[1] as string;
      expect(copy).toBeDefined();
      const second = await evict(copy);
      expect(second.state).toBe('failed');
      expect(second.reason).toMatch(
        /already queued again 1 time\(s\), the most allowed: re-run it/
      );
      const jobs = (await sidecar.api('GET', '/api/jobs')).body.jobs as Obj[];
      expect(jobs.filter(j => j.state === 'queued')).toHaveLength(0);
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });

  test('kueue mode: Jobs wait suspended with a reason until admitted, then run', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort(), {
      mode: 'kueue',
      kueue_queue: 'team-a'
    });
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    try {
      const gate = path.join(gates, 'kueue');
      open(gate);
      const id = await submit(sidecar, 'gpu-1', gated(gate, 'kueue'));
      const waiting = await waitFor(
        async () => {
          const j = await sidecar.job(id);
          return j.reason ? j : null;
        },
        'the Kueue reason',
        30000,
        200
      );
      expect(waiting.reason).toBe(
        'Waiting for Kueue to admit it (queue team-a).'
      );
      const [job] = await cluster.jobs();
      expect(job.spec.suspend).toBe(true);
      expect(job.metadata.labels['kueue.x-k8s.io/queue-name']).toBe('team-a');
      expect(await podOf(id)).toBeUndefined();
      // What Kueue does when it admits a workload (Kueue itself is not installed here).
      const res = await cluster.call(
        'PATCH',
        `/apis/batch/v1/namespaces/${JOBS_NS}/jobs/${job.metadata.name}`,
        { spec: { suspend: false } },
        'application/merge-patch+json'
      );
      expect(res.status).toBe(200);
      const done = await ended(sidecar, id);
      expect(done.state).toBe('succeeded');
      expect(done.reason).toBeNull();
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });

  test('the API server going away and coming back: watches recover, jobs run and finish', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    const script = path.resolve(
      __dirname,
      '../../../k8s/controlplane/restart.sh'
    );
    const ready = async (): Promise<boolean> =>
      (await cluster.call('GET', '/readyz').catch(() => ({ status: 0 })))
        .status === 200;
    try {
      const gate = path.join(gates, 'apiserver');
      const before = await submit(
        sidecar,
        'gpu-1',
        gated(gate, 'before the outage')
      );
      await state(sidecar, before, 'running');
      execFileSync(script, [cluster.dir, 'kube-apiserver', '--down-only']);
      await waitFor(
        async () => !(await ready()),
        'the API server down',
        10000,
        100
      );
      execFileSync(script, [cluster.dir, 'kube-apiserver', '--up-only']);
      await waitFor(ready, 'the API server back', 120000, 250);
      open(gate);
      expect((await ended(sidecar, before)).state).toBe('succeeded');
      const after = await submit(
        sidecar,
        'gpu-1',
        gated(gate, 'after the outage')
      );
      expect((await ended(sidecar, after)).state).toBe('succeeded');
      expect(
        (await cluster.jobs())
          .map(j => j.metadata.labels['nbqueue.io/job-id'])
          .sort()
      ).toEqual([before, after].sort());
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });
});

describe('sidecar restart', () => {
  test('running Jobs are re-adopted and finish; nothing is duplicated', async () => {
    await cluster.clean();
    const port = await freePort();
    const sidecar = new SidecarProcess(port);
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    try {
      const gate = path.join(gates, 'restart');
      const ids = [
        await submit(sidecar, 'gpu-1', gated(gate, 'restart a')),
        await submit(sidecar, 'gpu-1', gated(gate, 'restart b'))
      ];
      for (const id of ids) await state(sidecar, id, 'running');
      const before = (await cluster.jobs()).map(j => j.metadata.uid).sort();
      expect(before).toHaveLength(2);

      await sidecar.kill();
      await sidecar.start();
      for (const id of ids)
        expect((await sidecar.job(id)).state).toBe('running');
      open(gate);
      const done = await Promise.all(ids.map(id => ended(sidecar, id)));
      expect(done.map(d => d.state)).toEqual(['succeeded', 'succeeded']);
      for (const id of ids) {
        const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
          .events as Obj[];
        expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
        expect(JSON.stringify(events)).toContain('gate open');
      }
      const after = (await cluster.jobs()).map(j => j.metadata.uid).sort();
      expect(after).toEqual(before);
      expect(sidecar.output).not.toMatch(/orphaned/);
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });
});

describe('RBAC', () => {
  test("the sidecar's ServiceAccount has deploy/kubernetes/rbac.yaml's permissions and no more", async () => {
    const kubeconfig = fs.readFileSync(
      path.join(cluster.dir, 'kubeconfig-sidecar'),
      'utf8'
    );
    const token = /token: '([^']+)'/.exec(kubeconfig)?.[1] as string;
    const as = { ...cluster.env, K8S_TOKEN: token };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { request } = require('./api-plain');
    const can = async (method: string, route: string, body?: unknown) =>
      (await request(as, method, route, body)).status;
    expect(await can('GET', `/apis/batch/v1/namespaces/${JOBS_NS}/jobs`)).toBe(
      200
    );
    expect(await can('GET', '/api/v1/nodes')).toBe(200);
    expect(await can('GET', `/api/v1/namespaces/${JOBS_NS}/pods`)).toBe(200);
    // Pods are read in the job namespace only (pool_pods: namespace, the default).
    expect(await can('GET', '/api/v1/pods')).toBe(403);
    expect(await can('GET', '/api/v1/namespaces/kube-system/pods')).toBe(403);
    expect(await can('GET', '/api/v1/namespaces/kube-system/secrets')).toBe(
      403
    );
    expect(await can('GET', '/api/v1/secrets')).toBe(403);
    expect(await can('GET', '/apis/batch/v1/namespaces/default/jobs')).toBe(
      403
    );
    expect(
      await can('POST', `/api/v1/namespaces/${JOBS_NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'not-allowed' },
        spec: { containers: [{ name: 'x', image: 'x' }] }
      })
    ).toBe(403);
    expect(await can('DELETE', '/api/v1/nodes/gpu-node-0')).toBe(403);
  });
});
describe('NetworkPolicy', () => {
  test('deploy/kubernetes/networkpolicy.yaml is accepted by the API server: job pods reach the sidecar, DNS and public HTTPS only', async () => {
    const res = await cluster.call(
      'GET',
      `/apis/networking.k8s.io/v1/namespaces/${JOBS_NS}/networkpolicies/nbqueue-job-pods`
    );
    expect(res.status).toBe(200);
    const spec = res.body.spec;
    expect(spec.podSelector).toEqual({});
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress ?? []).toEqual([]);
    const ports = spec.egress.map((rule: Obj) =>
      rule.ports.map((p: Obj) => `${p.protocol}/${p.port}`).join(',')
    );
    expect(ports).toEqual(['TCP/8765', 'UDP/53,TCP/53', 'TCP/443']);
    expect(spec.egress[0].to[0].podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'nbqueue'
    });
    // No cluster-internal address (pods, Services, the hub) and not the metadata service.
    const block = spec.egress[2].to[0].ipBlock;
    expect(block.cidr).toBe('0.0.0.0/0');
    for (const cidr of [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16'
    ])
      expect(block.except).toContain(cidr);
  });
});
