#!/usr/bin/env node
// Creates the objects of YAML files on the test control plane (kubectl is not needed):
//   node apply.js ENV_FILE FILE.yaml...      create each object (an existing one is replaced)
//   node apply.js ENV_FILE --ready-nodes N   exit 0 when at least N nodes are Ready
// ENV_FILE is the env file start.sh writes (K8S_SERVER, K8S_TOKEN, K8S_CA).
'use strict';
const { URL } = require('url');
const fs = require('fs');
const https = require('https');
const YAML = require('yaml');

const env = Object.fromEntries(
  fs
    .readFileSync(process.argv[2], 'utf8')
    .split('\n')
    .filter(l => l.includes('='))
    .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
);
const ca = fs.readFileSync(env.K8S_CA);

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, env.K8S_SERVER),
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${env.K8S_TOKEN}`,
          'content-type': 'application/json'
        }
      },
      res => {
        let text = '';
        res.on('data', d => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      }
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The collection an object is created in (the kinds these YAML files hold). */
function collection(obj) {
  const [group, version] = obj.apiVersion.includes('/')
    ? obj.apiVersion.split('/')
    : ['', obj.apiVersion];
  const plural = {
    Node: 'nodes',
    Namespace: 'namespaces',
    ServiceAccount: 'serviceaccounts',
    Service: 'services',
    Secret: 'secrets',
    ConfigMap: 'configmaps',
    Role: 'roles',
    RoleBinding: 'rolebindings',
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
    Deployment: 'deployments',
    PriorityClass: 'priorityclasses',
    NetworkPolicy: 'networkpolicies'
  }[obj.kind];
  if (!plural) throw new Error(`apply.js does not know kind ${obj.kind}`);
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const ns = obj.metadata.namespace;
  return ns ? `${base}/namespaces/${ns}/${plural}` : `${base}/${plural}`;
}

async function apply(obj) {
  const path = collection(obj);
  let res = await request('POST', path, obj);
  if (res.status === 409) {
    const current = await request('GET', `${path}/${obj.metadata.name}`);
    const rv = JSON.parse(current.text).metadata.resourceVersion;
    res = await request('PUT', `${path}/${obj.metadata.name}`, {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: rv }
    });
  }
  if (res.status >= 300)
    throw new Error(
      `${obj.kind} ${obj.metadata.name}: HTTP ${res.status} ${res.text}`
    );
  console.log(`${obj.kind.toLowerCase()}/${obj.metadata.name} applied`);
}

async function main() {
  if (process.argv[3] === '--ready-nodes') {
    const res = await request('GET', '/api/v1/nodes');
    const ready = JSON.parse(res.text).items.filter(n =>
      (n.status.conditions || []).some(
        c => c.type === 'Ready' && c.status === 'True'
      )
    );
    process.exit(ready.length >= Number(process.argv[4]) ? 0 : 1);
  }
  for (const file of process.argv.slice(3))
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      const obj = doc.toJSON();
      if (obj) await apply(obj);
    }
}

main().catch(err => {
  console.error(`apply.js: ${err.message}`);
  process.exit(1);
});
