/**
 * Starts the control plane once for the suite (building it first when not cached), applies
 * deploy/kubernetes's namespaces and RBAC, gives the sidecar's ServiceAccount a token (the
 * sidecars in the tests use only that) and builds the server (the sidecars run from dist:
 * @kubernetes/client-node is an ES module that jest's CommonJS runtime cannot load), builds the
 * runner and sidecar images the tests run job pods and sidecars from (images/build.sh --base
 * local: cached, so a second run takes a fraction of a second; NBQUEUE_K8S_PODS=host and
 * NBQUEUE_K8S_SIDECAR=host skip them) and gives the job namespace the tests' claims, each a
 * hostPath PersistentVolume bound to a ReadWriteMany claim: the gate folder and the
 * environment cache (owned by uid 1001, the init container's user).
 * NBQUEUE_K8S_DIR=<dir of a running start.sh> reuses a control plane instead.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { request, readEnv } = require('./api-plain');

const REPO = path.resolve(__dirname, '..', '..', '..');

module.exports = async function globalSetup() {
  try {
    await setUp();
  } catch (err) {
    // jest runs no teardown after a failed setup: stop what was started here.
    const dir = process.env.NBQUEUE_K8S_STARTED;
    if (dir)
      execFileSync(path.join(REPO, 'k8s/controlplane/stop.sh'), [dir], {
        stdio: 'inherit'
      });
    throw err;
  }
};

/** A hostPath PersistentVolume at `folder`, bound to the claim `name` in the job namespace. */
async function claim(env, name, folder) {
  const spec = {
    accessModes: ['ReadWriteMany'],
    storageClassName: '',
    resources: { requests: { storage: '1Gi' } }
  };
  for (const [route, body] of [
    [
      '/api/v1/persistentvolumes',
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name },
        spec: {
          accessModes: spec.accessModes,
          storageClassName: '',
          capacity: { storage: '1Gi' },
          hostPath: { path: folder, type: 'Directory' },
          claimRef: { namespace: 'nbqueue-jobs', name }
        }
      }
    ],
    [
      '/api/v1/namespaces/nbqueue-jobs/persistentvolumeclaims',
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, namespace: 'nbqueue-jobs' },
        spec: { ...spec, volumeName: name }
      }
    ]
  ]) {
    const res = await request(env, 'POST', route, body);
    if (res.status !== 201 && res.status !== 409)
      throw new Error(
        `${route}: HTTP ${res.status} ${JSON.stringify(res.body)}`
      );
  }
}

async function setUp() {
  let dir = process.env.NBQUEUE_K8S_DIR;
  if (!dir || !fs.existsSync(path.join(dir, 'env'))) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbq-k8s-'));
    process.env.NBQUEUE_K8S_STARTED = dir;
    const t0 = Date.now();
    execFileSync(path.join(REPO, 'k8s/controlplane/start.sh'), [dir], {
      stdio: ['ignore', 'inherit', 'inherit']
    });
    process.env.NBQUEUE_K8S_STARTUP_MS = String(Date.now() - t0);
  }
  process.env.NBQUEUE_K8S_DIR = dir;
  const env = readEnv(dir);
  execFileSync(
    'node',
    [
      path.join(REPO, 'k8s/controlplane/apply.js'),
      path.join(dir, 'env'),
      path.join(REPO, 'deploy/kubernetes/namespace.yaml'),
      path.join(REPO, 'deploy/kubernetes/rbac.yaml'),
      path.join(REPO, 'deploy/kubernetes/networkpolicy.yaml')
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] }
  );
  const res = await request(
    env,
    'POST',
    '/api/v1/namespaces/nbqueue/serviceaccounts/nbqueue-sidecar/token',
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 86400 }
    }
  );
  if (res.status !== 201)
    throw new Error(
      `TokenRequest: HTTP ${res.status} ${JSON.stringify(res.body)}`
    );
  // The same token as a pod's ServiceAccount volume, for the sidecar's container.
  const sa = path.join(dir, 'serviceaccount');
  fs.mkdirSync(sa, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(sa, 'token'), res.body.status.token, {
    mode: 0o644
  });
  fs.copyFileSync(env.K8S_CA, path.join(sa, 'ca.crt'));
  fs.chmodSync(path.join(sa, 'ca.crt'), 0o644);
  fs.writeFileSync(path.join(sa, 'namespace'), 'nbqueue', { mode: 0o644 });
  fs.writeFileSync(
    path.join(dir, 'kubeconfig-sidecar'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `  - name: test`,
      `    cluster: { server: '${env.K8S_SERVER}', certificate-authority: '${env.K8S_CA}' }`,
      'users:',
      '  - name: nbqueue-sidecar',
      `    user: { token: '${res.body.status.token}' }`,
      'contexts:',
      '  - name: test',
      '    context: { cluster: test, user: nbqueue-sidecar }',
      'current-context: test',
      ''
    ].join('\n')
  );
  const gates = path.join(dir, 'gates');
  fs.mkdirSync(gates, { recursive: true, mode: 0o755 });
  process.env.NBQUEUE_K8S_GATES = gates;
  await claim(env, 'nbqueue-test-gates', gates);
  // The environment cache: written only by the pods' init container, as uid 1001.
  const environments = path.join(dir, 'environments');
  fs.mkdirSync(environments, { recursive: true, mode: 0o755 });
  fs.chownSync(environments, 1001, 1001);
  await claim(env, 'nbqueue-test-environments', environments);
  const images = [];
  if (process.env.NBQUEUE_K8S_PODS !== 'host') images.push('runner');
  if (process.env.NBQUEUE_K8S_SIDECAR !== 'host') images.push('sidecar');
  if (images.length) {
    const t0 = Date.now();
    execFileSync(
      'bash',
      [path.join(REPO, 'images/build.sh'), '--base', 'local', ...images],
      { stdio: ['ignore', 'inherit', 'inherit'] }
    );
    process.env.NBQUEUE_K8S_IMAGE_MS = String(Date.now() - t0);
  }
  // dist: for NBQUEUE_K8S_SIDECAR=host and the benchmark's sidecar process.
  if (!process.env.NBQUEUE_K8S_SKIP_BUILD)
    execFileSync(
      'npx',
      ['tsc', '-p', path.join(REPO, 'server/tsconfig.json')],
      {
        stdio: 'inherit',
        cwd: REPO
      }
    );
}
