/**
 * `make bench`: the Kubernetes backend on the test control plane (k8s/controlplane, started by
 * test/k8s/global-setup.js), with the sidecar as a process holding only rbac.yaml's rights.
 * Run through the k8s jest project, which brings the harness (the command is in .ci/bench.sh).
 * Measures: submit (admission) -> Job created (seen by a watch), Job created -> runner connected
 * (the harness runs the real runner when kwok reports the pod Running), and the watch load of
 * 200 running Jobs (sidecar CPU and memory idle, and while all 200 pods end at once).
 */
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import { code, notebook, tmpDir, waitFor } from '../test/helpers';
import {
  Cluster,
  JOBS_NS,
  OWNED,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort,
  terminated
} from '../test/k8s/harness';

const cluster = new Cluster();
const SAMPLES = Number(process.env.BENCH_K8S_SAMPLES ?? 16);
const LOAD_JOBS = Number(process.env.BENCH_K8S_JOBS ?? 200);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

/** A watch of nbqueue's Jobs and pods in the job namespace: when each Job appeared, when each pod ran. */
class Watcher {
  readonly jobAdded = new Map<string, number>();
  readonly podRunning = new Map<string, number>();
  /** Job id -> its pod's name. */
  readonly podName = new Map<string, string>();
  /** Pods the scheduler could not place (PodScheduled=False). */
  readonly unschedulable = new Set<string>();

  private readonly reqs: Array<{ destroy(): void }> = [];

  start(resource: 'jobs' | 'pods'): void {
    const base =
      resource === 'jobs'
        ? `/apis/batch/v1/namespaces/${JOBS_NS}/jobs`
        : `/api/v1/namespaces/${JOBS_NS}/pods`;
    const url = new URL(
      `${base}?watch=1&labelSelector=${encodeURIComponent(OWNED)}`,
      cluster.env.K8S_SERVER
    );
    const req = https.get(
      url,
      {
        ca: fs.readFileSync(cluster.env.K8S_CA),
        headers: { authorization: `Bearer ${cluster.env.K8S_TOKEN}` }
      },
      res => {
        let buf = '';
        res.on('data', chunk => {
          buf += chunk;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;

            const ev = JSON.parse(line) as { type: string; object: Obj };
            const id = ev.object.metadata?.labels?.['nbqueue.io/job-id'];
            if (resource === 'jobs' && ev.type === 'ADDED' && id)
              this.jobAdded.set(id, Date.now());
            if (resource === 'pods' && id) {
              this.podName.set(id, ev.object.metadata.name);
              if (
                (ev.object.status?.conditions ?? []).some(
                  (c: Obj) => c.type === 'PodScheduled' && c.status === 'False'
                )
              )
                this.unschedulable.add(ev.object.metadata.name);
            }
            if (
              resource === 'pods' &&
              id &&
              ev.object.status?.phase === 'Running' &&
              !this.podRunning.has(id)
            )
              this.podRunning.set(id, Date.now());
          }
        });
      }
    );
    this.reqs.push(req);
  }

  stop(): void {
    for (const r of this.reqs) r.destroy();
  }
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  return { cpu: ticks / 100, rssMb: rss };
}

/** Job events' `time` of the job's first output (the runner's clock). */
async function firstOutput(
  sidecar: SidecarProcess,
  id: string
): Promise<number> {
  const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
    .events as Array<{ type: string; time: number }>;
  return events.find(e => e.type === 'output')?.time ?? NaN;
}

interface Writes {
  verb: string;
  resource: string;
  subresource: string;
  count: number;
}

/** kube-apiserver's count of write requests so far, by verb, resource and subresource. */
async function apiWrites(c: Cluster): Promise<Writes[]> {
  const res = await c.call('GET', '/metrics');
  const rows = new Map<string, Writes>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]])
    );
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(labels.verb)) continue;
    const key = `${labels.verb} ${labels.resource} ${labels.subresource}`;
    const w = rows.get(key) ?? {
      verb: labels.verb,
      resource: labels.resource,
      subresource: labels.subresource,
      count: 0
    };
    w.count += Number(line.slice(line.lastIndexOf(' ') + 1));
    rows.set(key, w);
  }
  return [...rows.values()];
}

function diffWrites(before: Writes[], after: Writes[]): Writes[] {
  const key = (w: Writes) => `${w.verb} ${w.resource} ${w.subresource}`;
  const was = new Map(before.map(w => [key(w), w.count]));
  return after
    .map(w => ({ ...w, count: w.count - (was.get(key(w)) ?? 0) }))
    .filter(w => w.count > 0)
    .sort((a, b) => b.count - a.count);
}

test('kubernetes backend figures', async () => {
  await cluster.clean();
  const gates = tmpDir('nbq-bench-k8s-');
  const sidecar = new SidecarProcess(
    await freePort(),
    {},
    [
      { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 100 },
      {
        name: 'tiny',
        cpus: 0.05,
        gpus: 0,
        memory: '64Mi',
        capacity: 1000,
        kubernetes: {
          node_selector: { 'nbqueue.io/pool': 'cpu' },
          tolerations: []
        }
      }
    ],
    // A process of its own: its CPU time and memory are read from /proc by pid.
    // BENCH_K8S_CPU_PROFILE=DIR: it writes a V8 CPU profile there when it stops.
    {
      fromImage: false,
      nodeArgs: process.env.BENCH_K8S_CPU_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_K8S_CPU_PROFILE}`]
        : []
    }
  );
  await sidecar.start();
  const pid = sidecar.child?.pid as number;
  // Host runners: the figures are the sidecar's and the API server's, not a container start's,
  // and the gates are a host folder.
  const harness = new RunnerHarness(cluster, { hostRunners: true });
  const watcher = new Watcher();
  watcher.start('jobs');
  watcher.start('pods');

  /** LOAD_JOBS jobs of the tiny profile, submitted at once (concurrent POSTs). */
  const submitAll = (name: string): Promise<string[]> =>
    Promise.all(
      Array.from({ length: LOAD_JOBS }, async (_, i) => {
        const res = await sidecar.api('POST', '/api/jobs', {
          profile: 'tiny',
          name: `${name}-${i}`,
          notebook: notebook([code('pass')])
        });
        if (res.status !== 201)
          throw new Error(
            `submit ${i}: ${res.status} ${JSON.stringify(res.body)}`
          );
        return res.body.id as string;
      })
    );
  const cordon = (on: boolean) =>
    Promise.all(
      ['cpu-node-0', 'cpu-node-1'].map(n =>
        cluster.call(
          'PATCH',
          `/api/v1/nodes/${n}`,
          { spec: { unschedulable: on } },
          'application/merge-patch+json'
        )
      )
    );

  /**
   * Waits for every pod of `ids` to run, then prints from `t0`: when every Job was created and
   * every pod Running, admission -> Job created, the sidecar's CPU, and the API writes since
   * `before` (kube-apiserver's own count) per admission.
   */
  async function burstFigures(
    label: string,
    ids: string[],
    t0: number,
    before: { writes: Writes[]; cpu: number }
  ): Promise<void> {
    const burst = new Set(ids);
    await waitFor(
      () => ids.every(id => watcher.podRunning.has(id)),
      `${ids.length} running pods`,
      300000,
      20
    ).catch(async err => {
      // What the first job's record and the sidecar said, to see why.
      const j = await sidecar.api('GET', `/api/jobs/${ids[0]}`);
      out(`${JSON.stringify(j.body)}\n${sidecar.output.slice(-3000)}`);
      throw err;
    });
    const last = (m: Map<string, number>) =>
      (Math.max(...ids.map(id => m.get(id) ?? NaN)) - t0) / 1000;
    const jobsSeconds = last(watcher.jobAdded);
    const podsSeconds = last(watcher.podRunning);
    // Every admission's writes are done once every Secret is there.
    await waitFor(
      async () =>
        (await cluster.secrets()).filter(x =>
          burst.has(x.metadata.labels?.['nbqueue.io/job-id'])
        ).length === ids.length,
      'every token Secret',
      60000,
      100
    );
    const cpu = usage(pid).cpu - before.cpu;
    const writes = diffWrites(before.writes, await apiWrites(cluster));
    const admitted = await Promise.all(
      ids.map(async id => Date.parse((await sidecar.job(id)).started_at))
    );
    const toJob = ids.map(
      (id, i) => (watcher.jobAdded.get(id) as number) - admitted[i]
    );
    out(
      `${label}: every Job created in ${jobsSeconds.toFixed(1)} s (${(ids.length / jobsSeconds).toFixed(0)}/s), every pod Running in ${podsSeconds.toFixed(1)} s (${(ids.length / podsSeconds).toFixed(0)} admissions/s); pods ever unschedulable: ${watcher.unschedulable.size}`
    );
    out(
      `  admission (started_at) -> Job created: p50 ${pct(toJob, 50)} ms, p99 ${pct(toJob, 99)} ms, max ${Math.max(...toJob)} ms; sidecar CPU ${cpu.toFixed(2)} s (${((1000 * cpu) / ids.length).toFixed(1)} ms a job)`
    );
    const ours = writes
      .filter(w => ['jobs', 'secrets'].includes(w.resource) && !w.subresource)
      .reduce((n, w) => n + w.count, 0);
    out(
      `  API writes (kube-apiserver apiserver_request_total, POST/PUT/PATCH/DELETE) on jobs and secrets: ${ours / ids.length} per admission; all: ${writes.map(w => `${w.verb} ${w.resource}${w.subresource ? `/${w.subresource}` : ''} ${w.count}`).join(', ')}`
    );
    expect(watcher.unschedulable.size).toBe(0);
    expect(ours / ids.length).toBeLessThanOrEqual(2);
  }
  try {
    const startup = process.env.NBQUEUE_K8S_STARTUP_MS;
    if (startup)
      out(
        `control plane start (etcd, apiserver, kcm, scheduler, kwok, 4 nodes Ready): ${(Number(startup) / 1000).toFixed(1)} s`
      );

    // 1. Admission -> Job created, and Job created -> runner connected, one job at a time.
    harness.start();
    const toJob: number[] = [];
    const toRunner: number[] = [];
    const toPod: number[] = [];
    const podToOutput: number[] = [];
    const processToOutput: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const gate = path.join(gates, `g${i}`);
      fs.writeFileSync(gate, '');
      const t0 = Date.now();
      const res = await sidecar.api('POST', '/api/jobs', {
        profile: 'gpu-1',
        name: `bench-${i}`,
        notebook: notebook([code('print("hi")')])
      });
      const id = res.body.id as string;
      await waitFor(() => watcher.jobAdded.get(id), 'Job created', 30000, 2);
      const created = watcher.jobAdded.get(id) as number;
      toJob.push(created - t0);
      await waitFor(
        async () => (await sidecar.job(id)).state !== 'starting',
        'runner connected',
        60000,
        20
      );
      toRunner.push(Date.now() - created);
      toPod.push((watcher.podRunning.get(id) ?? NaN) - created);
      await waitFor(
        async () =>
          ['succeeded', 'failed'].includes((await sidecar.job(id)).state),
        'job end',
        60000,
        50
      );
      // The runner stamps each event with its own clock (this host's).
      const output = await firstOutput(sidecar, id);
      podToOutput.push(output - (watcher.podRunning.get(id) ?? NaN));
      const pod = watcher.podName.get(id) ?? '';
      processToOutput.push(output - (harness.startedAt.get(pod) ?? NaN));
    }
    await harness.stop();
    out(
      `submit (admission) -> Job created, ${SAMPLES} jobs: p50 ${pct(toJob, 50)} ms, max ${Math.max(...toJob)} ms`
    );
    out(
      `Job created -> pod Running (job controller, scheduler, kwok): p50 ${pct(toPod, 50)} ms, max ${Math.max(...toPod)} ms`
    );
    out(
      `Job created -> runner connected (pod scheduled, kwok Running, harness starts the runner, first event): p50 ${pct(toRunner, 50)} ms, max ${Math.max(...toRunner)} ms`
    );
    out(
      `pod Running -> first output: p50 ${pct(podToOutput, 50)} ms, max ${Math.max(...podToOutput)} ms; of it, runner process start -> first output: p50 ${pct(processToOutput, 50)} ms`
    );

    // 2. A burst: LOAD_JOBS submitted at once (concurrent POSTs) onto a pool with room for
    // all (the CPU pool: 2 nodes of 32 CPUs, 128 Gi and 110 pods each), no runners: the pods
    // stay Running (kwok). Then the watch load of LOAD_JOBS running Jobs.
    await cluster.clean();
    const before = { writes: await apiWrites(cluster), cpu: usage(pid).cpu };
    const tBurst = Date.now();
    const ids = await submitAll('load');
    const posted = ((Date.now() - tBurst) / 1000).toFixed(1);
    await burstFigures(
      `${LOAD_JOBS} Jobs submitted at once (all POSTs answered in ${posted} s)`,
      ids,
      tBurst,
      before
    );
    const idleStart = usage(pid);
    const idleSeconds = 20;
    await new Promise(r => setTimeout(r, idleSeconds * 1000));
    const idleEnd = usage(pid);
    out(
      `sidecar with ${LOAD_JOBS} running Jobs, idle ${idleSeconds} s: CPU ${((100 * (idleEnd.cpu - idleStart.cpu)) / idleSeconds).toFixed(1)} %, RSS ${idleEnd.rssMb.toFixed(0)} MB`
    );

    // Every pod ends at once: the sidecar sees each through its watches and ends its job.
    const pods = await cluster.pods();
    const churnStart = usage(pid);
    const t1 = Date.now();
    await Promise.all(
      pods.map(p =>
        cluster.patchPodStatus(p.metadata.name, terminated(p, 0, 'Completed'))
      )
    );
    await waitFor(
      async () => {
        const list = (
          await sidecar.api('GET', '/api/jobs?state=starting,running')
        ).body.jobs as Obj[];
        return list.length === 0;
      },
      'every job ended',
      300000,
      200
    );
    const seconds = (Date.now() - t1) / 1000;
    const churnEnd = usage(pid);
    out(
      `all ${LOAD_JOBS} pods end at once: the sidecar saw each and ended every job in ${seconds.toFixed(1)} s (${(LOAD_JOBS / seconds).toFixed(0)} pod updates/s end to end); its CPU meanwhile ${(churnEnd.cpu - churnStart.cpu).toFixed(2)} s, RSS ${churnEnd.rssMb.toFixed(0)} MB`
    );

    // 3. The admission alone: LOAD_JOBS queued while the CPU pool is cordoned (no room: none
    // is started), then the pool uncordoned: the sidecar admits them all at once.
    await cluster.clean();
    // The last section's pods gone, so the pool's pod slots are all free.
    await waitFor(
      async () => (await cluster.pods()).length === 0,
      'no pod left',
      120000,
      200
    );
    await cordon(true);
    try {
      const queued = await submitAll('queued');
      await waitFor(
        async () =>
          (await sidecar.api('GET', '/api/jobs?state=queued')).body.jobs
            .length === LOAD_JOBS,
        'every job queued',
        60000,
        200
      );
      const before2 = { writes: await apiWrites(cluster), cpu: usage(pid).cpu };
      const tOpen = Date.now();
      await cordon(false);
      await burstFigures(
        `${LOAD_JOBS} queued jobs admitted at once (the pool uncordoned)`,
        queued,
        tOpen,
        before2
      );
    } finally {
      await cordon(false);
    }
    expect(toJob).toHaveLength(SAMPLES);
  } finally {
    watcher.stop();
    await harness.stop().catch(() => undefined);
    await sidecar.stop();
    await cluster.clean().catch(() => undefined);
  }
}, 900000);
