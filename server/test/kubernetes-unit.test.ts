/**
 * The Kubernetes backend's pure parts: names and the Job it creates. The pool's free capacity:
 * kubernetes-capacity.test.ts; what pod states mean: kubernetes-status.test.ts; the informer:
 * kubernetes-watch.test.ts. (Against a real control plane: test/k8s/, its own jest project.)
 */
import { parseConfig } from '../src/config/load';
import {
  jobManifest,
  secretManifest,
  userPath
} from '../src/backends/kubernetes/manifest';
import { jobName, labelValue } from '../src/backends/kubernetes/names';
import type { JobRecord } from '../src/jobs/types';

const config = parseConfig({
  backend: {
    type: 'kubernetes',
    kubernetes: { sidecar_url: 'http://nbqueue.nbqueue.svc:8765' }
  }
});
const k8s = config.backend.kubernetes;
const gpu1 = config.profiles.find(p => p.name === 'gpu-1')!;

function record(over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'j-0123456789',
    owner: 'Ælice O’Brien@example.org',
    name: '  Training: ResNet-50 (final!!) ✓.ipynb',
    profile: 'gpu-1',
    queue: 'gpu-1',
    priority: 'normal',
    state: 'starting',
    reason: null,
    created_at: '',
    started_at: null,
    finished_at: null,
    position_key: 1,
    spec: { parameters: {}, notebook_path: null, cwd: null, kernel: {} },
    cancel_requested: false,
    held: false,
    backend_ref: null,
    last_seq: 0,
    attempt: 1,
    restarts: [],
    has_result: false,
    ...over
  };
}

const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const label = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('names', () => {
  test.each([
    ['alice', 'demo.ipynb'],
    ['Ælice O’Brien@example.org', '  Training: ResNet-50 (final!!) ✓.ipynb'],
    ['x'.repeat(300), 'y'.repeat(300)],
    ['---', '...'],
    ['用户', '笔记本.ipynb']
  ])('%s / %s give a valid Job name and labels', (user, notebook) => {
    const name = jobName('j-0123456789', user, notebook);
    expect(name).toMatch(dns);
    expect(name.length).toBeLessThanOrEqual(52);
    expect(name.endsWith('-j-0123456789')).toBe(true);
    expect(labelValue(user)).toMatch(label);
    expect(labelValue(user).length).toBeLessThanOrEqual(63);
    // A restarted job's later attempts: a Job of their own, as valid and as short.
    const again = jobName('j-0123456789', user, notebook, 12);
    expect(again).toMatch(dns);
    expect(again.length).toBeLessThanOrEqual(52);
    expect(again.endsWith('-j-0123456789-a12')).toBe(true);
  });
});

describe('job manifest', () => {
  const job = jobManifest({
    job: record(),
    profile: gpu1,
    config: k8s,
    sidecarUrl: 'http://ignored'
  });
  const pod = job.spec!.template.spec!;
  const c = pod.containers[0];

  test('one pod, never retried, with a deadline and a TTL, on the ML pool', () => {
    expect(job.metadata!.namespace).toBe('nbqueue-jobs');
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 86400,
      ttlSecondsAfterFinished: 3600
    });
    expect(job.spec!.suspend).toBeUndefined();
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.nodeSelector).toEqual({ 'nbqueue.io/pool': 'ml' });
    expect(pod.tolerations).toEqual([
      {
        key: 'nvidia.com/gpu',
        operator: 'Equal',
        value: 'present',
        effect: 'NoSchedule'
      }
    ]);
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    // A deleted pod is not replaced beside itself: the job would have two runners.
    expect(job.spec!.podReplacementPolicy).toBe('Failed');
  });

  test("a profile's own SIGTERM grace; a restarted job's Job is named for its attempt", () => {
    const spot = jobManifest({
      job: { ...record(), attempt: 3 },
      profile: {
        ...gpu1,
        kubernetes: { termination_grace_seconds: 90, max_restarts: 4 }
      },
      config: k8s,
      sidecarUrl: 'http://ignored'
    });
    expect(spot.spec!.template.spec!.terminationGracePeriodSeconds).toBe(90);
    expect(spot.metadata!.name).toMatch(/^nbq-.*-j-0123456789-a3$/);
    expect(spot.metadata!.name!.length).toBeLessThanOrEqual(52);
  });

  test('requests equal limits, GPUs included; non-root; no service account token', () => {
    expect(c.resources).toEqual({
      requests: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1' }
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000
    });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] }
    });
  });

  test('the runner reaches the in-cluster sidecar URL, with its token from the Secret', () => {
    const env = Object.fromEntries(
      c.env!.map(e => [e.name, e.value ?? e.valueFrom])
    );
    expect(env.NBQUEUE_URL).toBe('http://nbqueue.nbqueue.svc:8765');
    expect(env.NBQUEUE_JOB_ID).toBe('j-0123456789');
    expect(env.NBQUEUE_JOB_TOKEN).toEqual({
      secretKeyRef: { name: `${job.metadata!.name}-token`, key: 'token' }
    });
    const secret = secretManifest(
      record(),
      job.metadata!.name!,
      'nbqueue-jobs',
      's3cret'
    );
    expect(secret.metadata!.name).toBe(`${job.metadata!.name}-token`);
    expect(secret.stringData).toEqual({ token: 's3cret' });
    expect(Object.values(job.metadata!.labels!).every(v => label.test(v))).toBe(
      true
    );
    expect(job.metadata!.annotations!['nbqueue.io/user']).toBe(
      'Ælice O’Brien@example.org'
    );
  });

  test('profile placement overrides and kueue mode', () => {
    const cpu = {
      ...gpu1,
      name: 'cpu',
      gpus: 0,
      kubernetes: {
        node_selector: { pool: 'cpu' },
        tolerations: [],
        active_deadline_seconds: 60,
        priority_class: 'batch'
      }
    };
    const kueue = { ...k8s, mode: 'kueue' as const };
    const j = jobManifest({
      job: record(),
      profile: cpu,
      config: kueue,
      sidecarUrl: 'x'
    });
    expect(j.spec!.suspend).toBe(true);
    expect(j.metadata!.labels!['kueue.x-k8s.io/queue-name']).toBe('nbqueue');
    expect(j.spec!.activeDeadlineSeconds).toBe(60);
    const p = j.spec!.template.spec!;
    expect(p.nodeSelector).toEqual({ pool: 'cpu' });
    expect(p.tolerations).toEqual([]);
    expect(p.priorityClassName).toBe('batch');
    expect(
      p.containers[0].resources!.limits!['nvidia.com/gpu']
    ).toBeUndefined();
  });
});

test("a job's own deadline, mounted claims and extra runner variables", () => {
  const withVolumes = parseConfig({
    backend: {
      type: 'kubernetes',
      kubernetes: {
        volumes: [
          { claim_name: 'nbqueue-envs', mount_path: '/cache/envs' },
          {
            claim_name: 'home',
            mount_path: '/home/shared',
            sub_path: 'alice',
            read_only: true
          }
        ],
        env: { NBQUEUE_ENV_CACHE_DIR: '/cache/envs' }
      }
    }
  }).backend.kubernetes;
  const base = record();
  const j = jobManifest({
    job: { ...base, spec: { ...base.spec, deadline_seconds: 600 } },
    profile: gpu1,
    config: withVolumes,
    sidecarUrl: 'x'
  });
  expect(j.spec!.activeDeadlineSeconds).toBe(600);
  // Longer than the profile's limit (86400 s by default): the profile's limit stands.
  const longer = jobManifest({
    job: { ...base, spec: { ...base.spec, deadline_seconds: 200000 } },
    profile: gpu1,
    config: withVolumes,
    sidecarUrl: 'x'
  });
  expect(longer.spec!.activeDeadlineSeconds).toBe(86400);
  const p = j.spec!.template.spec!;
  expect(p.volumes).toEqual([
    {
      name: 'nbqueue-volume-0',
      persistentVolumeClaim: { claimName: 'nbqueue-envs', readOnly: false }
    },
    {
      name: 'nbqueue-volume-1',
      persistentVolumeClaim: { claimName: 'home', readOnly: true }
    }
  ]);
  expect(p.containers[0].volumeMounts).toEqual([
    { name: 'nbqueue-volume-0', mountPath: '/cache/envs', readOnly: false },
    {
      name: 'nbqueue-volume-1',
      mountPath: '/home/shared',
      readOnly: true,
      subPath: 'alice'
    }
  ]);
  expect(p.containers[0].env).toContainEqual({
    name: 'NBQUEUE_ENV_CACHE_DIR',
    value: '/cache/envs'
  });
  // Without any: no volumes at all, and the profile's deadline.
  expect(
    jobManifest({
      job: base,
      profile: gpu1,
      config: k8s,
      sidecarUrl: 'x'
    }).spec!.template.spec!.volumes
  ).toBeUndefined();
});

test('the environment cache: written only by the init container, read-only for the job', () => {
  const cached = parseConfig({
    backend: {
      type: 'kubernetes',
      kubernetes: { environment_cache: { claim_name: 'nbqueue-envs' } }
    }
  }).backend.kubernetes;
  const p = jobManifest({
    job: record(),
    profile: gpu1,
    config: cached,
    sidecarUrl: 'x'
  }).spec!.template.spec!;
  const dir = '/var/cache/nbqueue/environments';
  expect(p.volumes).toEqual([
    {
      name: 'nbqueue-environments',
      persistentVolumeClaim: { claimName: 'nbqueue-envs' }
    }
  ]);
  const [init] = p.initContainers!;
  const runner = p.containers[0];
  expect(init.command).toEqual(['python', '-m', 'nbqueue.environment.prepare']);
  expect(init.image).toBe(runner.image);
  expect(init.securityContext).toMatchObject({
    runAsUser: 1001,
    runAsGroup: 1001,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] }
  });
  expect(init.volumeMounts).toEqual([
    { name: 'nbqueue-environments', mountPath: dir, readOnly: false }
  ]);
  expect(runner.volumeMounts).toEqual([
    { name: 'nbqueue-environments', mountPath: dir, readOnly: true }
  ]);
  expect(p.securityContext!.runAsUser).toBe(1000);
  // No GPU for the init container; the job's token and cache folder for both.
  expect(init.resources!.limits).toEqual({ cpu: '8', memory: '32Gi' });
  for (const c of [init, runner]) {
    expect(c.env).toContainEqual({ name: 'NBQUEUE_ENV_CACHE_DIR', value: dir });
    expect(c.env!.find(e => e.name === 'NBQUEUE_JOB_TOKEN')).toBeDefined();
  }
  // The cache's writer must not be the jobs' user.
  expect(() =>
    parseConfig({
      backend: {
        type: 'kubernetes',
        kubernetes: {
          environment_cache: { claim_name: 'c', run_as_user: 1000 }
        }
      }
    })
  ).toThrow(/environment_cache.run_as_user.*must differ from run_as_user/);
});

describe('shared working storage, per user', () => {
  test("{username} becomes the owner's own folder; no name climbs out or lands in another", () => {
    expect(userPath('home/{username}', 'alice')).toBe('home/alice');
    expect(userPath('home/{username}', '../bob')).toBe('home/-2e-2e-2fbob');
    expect(userPath('home/{username}', 'Alice')).toBe('home/-41lice');
    expect(userPath('home/{username}', 'a-b')).not.toBe(
      userPath('home/{username}', 'a_b')
    );
    expect(userPath('{username}/work', 'jo\u00eblle')).toBe('jo-c3-ablle/work');
    const base = record({ owner: 'carol' });
    const j = jobManifest({
      job: base,
      profile: gpu1,
      config: parseConfig({
        backend: {
          type: 'kubernetes',
          kubernetes: {
            volumes: [
              {
                claim_name: 'work',
                mount_path: '/work',
                sub_path: 'home/{username}'
              }
            ]
          }
        },
        files: { bundle: false, working_dir: '/work' }
      }).backend.kubernetes,
      sidecarUrl: 'x'
    });
    expect(j.spec!.template.spec!.containers[0].volumeMounts).toContainEqual({
      name: 'nbqueue-volume-0',
      mountPath: '/work',
      readOnly: false,
      subPath: 'home/carol'
    });
  });

  test('a volume holding files.working_dir without {username} is refused at start, naming the field', () => {
    expect(() =>
      parseConfig({
        backend: {
          type: 'kubernetes',
          kubernetes: { volumes: [{ claim_name: 'work', mount_path: '/work' }] }
        },
        files: { bundle: false, working_dir: '/work/projects' }
      })
    ).toThrow(
      /backend\.kubernetes\.volumes\.0\.sub_path: the volume at \/work holds files\.working_dir \(\/work\/projects\), so it must be mounted per user/
    );
  });
});
