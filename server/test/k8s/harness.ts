/**
 * What the Kubernetes tests run against: the control plane global-setup.js started, a real
 * sidecar process (from dist, with the ServiceAccount token of deploy/kubernetes/rbac.yaml),
 * and a runner harness that plays the kubelet's part kwok leaves out: for each job pod kwok
 * reports Running it runs the real runner with that pod's environment (its Secret resolved),
 * then marks the pod Succeeded or Failed the way a kubelet would. One file each: cluster.ts,
 * sidecar.ts, runners.ts; the tests import them from here.
 */
export * from './cluster';
export * from './runners';
export * from './sidecar';
