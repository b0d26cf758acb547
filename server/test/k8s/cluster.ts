/**
 * The test cluster global-setup.js started: its constants (the job namespace, the images, the
 * claims every job pod mounts) and plain calls to its API server as an administrator.
 */
import * as net from 'net';
import { waitFor } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const plain = require('./api-plain') as {
  readEnv(dir: string): Record<string, string>;
  request(
    env: Record<string, string>,
    method: string,
    route: string,
    body?: unknown,
    contentType?: string
  ): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

export const JOBS_NS = 'nbqueue-jobs';
export const OWNED = 'app.kubernetes.io/managed-by=nbqueue';
/** An image the kwok stages never start (ImagePullBackOff). */
export const MISSING_IMAGE = 'nbqueue.invalid/missing:0';
/**
 * Each job pod runs as containers of the runner image (podman, from the pod spec: kubelet.ts).
 * NBQUEUE_K8S_PODS=host runs the runner on this host's Python instead, to debug the harness.
 */
export const CONTAINER_PODS = process.env.NBQUEUE_K8S_PODS !== 'host';
/** The runner image images/build.sh --base local builds (global-setup.js builds it). */
export const RUNNER_IMAGE = 'nbqueue-runner:test';
/** A folder every job pod mounts read-only (claim GATES_CLAIM): tests open gates in it. */
export const GATES = process.env.NBQUEUE_K8S_GATES as string;
export const GATES_CLAIM = 'nbqueue-test-gates';
/** The environment cache's claim (global-setup.js): a folder owned by uid 1001. */
export const ENVIRONMENTS_CLAIM = 'nbqueue-test-environments';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Obj = any;

export class Cluster {
  readonly dir = process.env.NBQUEUE_K8S_DIR as string;
  readonly env = plain.readEnv(this.dir);

  async call(
    method: string,
    route: string,
    body?: unknown,
    contentType?: string
  ): Promise<{ status: number; body: Obj }> {
    return plain.request(this.env, method, route, body, contentType);
  }

  async list(route: string, labelSelector = OWNED): Promise<Obj[]> {
    const sep = route.includes('?') ? '&' : '?';
    const res = await this.call(
      'GET',
      `${route}${sep}labelSelector=${encodeURIComponent(labelSelector)}`
    );
    if (res.status !== 200)
      throw new Error(
        `GET ${route}: ${res.status} ${JSON.stringify(res.body)}`
      );
    return res.body.items;
  }

  jobs(): Promise<Obj[]> {
    return this.list(`/apis/batch/v1/namespaces/${JOBS_NS}/jobs`);
  }

  pods(): Promise<Obj[]> {
    return this.list(`/api/v1/namespaces/${JOBS_NS}/pods`);
  }

  secrets(): Promise<Obj[]> {
    return this.list(`/api/v1/namespaces/${JOBS_NS}/secrets`);
  }

  async patchPodStatus(name: string, status: Obj): Promise<void> {
    const res = await this.call(
      'PATCH',
      `/api/v1/namespaces/${JOBS_NS}/pods/${name}/status`,
      { status },
      'application/merge-patch+json'
    );
    if (res.status !== 200 && res.status !== 404)
      throw new Error(
        `patch pod ${name}: ${res.status} ${JSON.stringify(res.body)}`
      );
  }

  /** Deletes every nbqueue Job (and so its pods and Secret) left by an earlier test. */
  async clean(): Promise<void> {
    await this.call(
      'DELETE',
      `/apis/batch/v1/namespaces/${JOBS_NS}/jobs?labelSelector=${encodeURIComponent(OWNED)}&propagationPolicy=Background`
    );
    await waitFor(
      async () =>
        (await this.pods()).length === 0 && (await this.jobs()).length === 0,
      'no nbqueue Jobs or pods left',
      60000,
      250
    );
  }
}

/** The pod's terminated container status, as a kubelet reports it. */
export function terminated(pod: Obj, exitCode: number, reason: string): Obj {
  const now = new Date().toISOString();
  return {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [
      { type: 'Ready', status: 'False', lastTransitionTime: now },
      { type: 'ContainersReady', status: 'False', lastTransitionTime: now }
    ],
    containerStatuses: pod.spec.containers.map((c: Obj) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: {
        terminated: {
          exitCode,
          reason,
          startedAt: pod.status?.startTime ?? now,
          finishedAt: now
        }
      }
    }))
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
