/**
 * The deployment files keep the sidecar's store on a PersistentVolumeClaim, written by one pod
 * at a time (strategy Recreate): deploy/kubernetes/sidecar.yaml and the Zero to JupyterHub
 * files. (server/test/k8s/policy.test.ts has the API server accept sidecar.yaml.)
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { parseConfig } from '../src/config/load';
import { REPO } from './helpers';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const docs = (file: string): Obj[] =>
  YAML.parseAllDocuments(fs.readFileSync(path.join(REPO, file), 'utf8'))
    .map(d => d.toJSON() as Obj)
    .filter(Boolean);

/** The folder of the store configured in a ConfigMap's nbqueue.yaml. */
const storeDir = (map: Obj): string =>
  path.dirname(
    parseConfig(YAML.parse(map.data['nbqueue.yaml'])).store.path as string
  );

describe('deployment files: the store on a claim, one writer', () => {
  test('deploy/kubernetes/sidecar.yaml: Recreate, one replica, the store on its PersistentVolumeClaim', () => {
    const objs = docs('deploy/kubernetes/sidecar.yaml');
    const of = (kind: string) => objs.filter(o => o.kind === kind);
    const [claim] = of('PersistentVolumeClaim');
    const [deployment] = of('Deployment');
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = deployment.spec.template.spec;
    const volume = pod.volumes.find((v: Obj) => v.persistentVolumeClaim);
    expect(volume.persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    expect(pod.volumes.some((v: Obj) => 'emptyDir' in v)).toBe(false);
    const mount = pod.containers[0].volumeMounts.find(
      (m: Obj) => m.name === volume.name
    );
    const [map] = of('ConfigMap');
    expect(mount.mountPath).toBe(storeDir(map));
  });

  test('Zero to JupyterHub: the hub Deployment is Recreate and mounts the claim at the store', () => {
    const values = docs('deploy/jupyterhub/z2jh-values.yaml')[0];
    const [claim] = docs('deploy/jupyterhub/z2jh-nbqueue-data.yaml');
    const [map] = docs('deploy/jupyterhub/z2jh-nbqueue-config.yaml');
    expect(claim.kind).toBe('PersistentVolumeClaim');
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(values.hub.deploymentStrategy).toEqual({ type: 'Recreate' });
    const volume = values.hub.extraVolumes.find(
      (v: Obj) => v.persistentVolumeClaim?.claimName === claim.metadata.name
    );
    expect(volume).toBeDefined();
    const sidecar = values.hub.extraContainers.find(
      (c: Obj) => c.name === 'nbqueue'
    );
    const mount = sidecar.volumeMounts.find((m: Obj) => m.name === volume.name);
    expect(mount.mountPath).toBe(storeDir(map));
  });
});
