/**
 * What the cluster allows the sidecar and job pods: the sidecar's RBAC and the job pods'
 * NetworkPolicy, as the API server of the test cluster has them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Cluster, JOBS_NS, Obj } from './harness';

const cluster = new Cluster();

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
describe('sidecar.yaml', () => {
  test("the API server accepts deploy/kubernetes/sidecar.yaml (a dry run): the store's PersistentVolumeClaim, a Recreate Deployment mounting it", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const YAML = require('yaml');
    const objs = YAML.parseAllDocuments(
      fs.readFileSync(
        path.join(__dirname, '../../../deploy/kubernetes/sidecar.yaml'),
        'utf8'
      )
    ).map((d: { toJSON(): Obj }) => d.toJSON());
    const plural: Record<string, string> = {
      ConfigMap: '/api/v1/namespaces/nbqueue/configmaps',
      PersistentVolumeClaim:
        '/api/v1/namespaces/nbqueue/persistentvolumeclaims',
      Deployment: '/apis/apps/v1/namespaces/nbqueue/deployments',
      Service: '/api/v1/namespaces/nbqueue/services'
    };
    const accepted: Record<string, Obj> = {};
    for (const obj of objs) {
      // dryRun=All: admitted and defaulted as if created, nothing stored (no sidecar pod).
      const res = await cluster.call(
        'POST',
        `${plural[obj.kind]}?dryRun=All`,
        obj
      );
      expect([obj.kind, res.status]).toEqual([obj.kind, 201]);
      accepted[obj.kind] = res.body;
    }
    const claim = accepted.PersistentVolumeClaim;
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    const deployment = accepted.Deployment;
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec.replicas).toBe(1);
    expect(
      deployment.spec.template.spec.volumes.find((v: Obj) => v.name === 'data')
        .persistentVolumeClaim
    ).toEqual({ claimName: claim.metadata.name });
    const stored = await cluster.call(
      'GET',
      `${plural.PersistentVolumeClaim}/${claim.metadata.name}`
    );
    expect(stored.status).toBe(404);
  });
});
