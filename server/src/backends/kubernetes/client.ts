/** The API server connection: which cluster the sidecar talks to, and its errors in words. */
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesBackendConfig } from './config';

export function loadKubeConfig(config: KubernetesBackendConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (config.context) kc.setCurrentContext(config.context);
  return kc;
}

/** A person-readable sentence from an API error. */
export function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let text = e.message ?? String(err);
  if (typeof e.body === 'string') {
    try {
      text = (JSON.parse(e.body) as { message?: string }).message ?? e.body;
    } catch {
      text = e.body;
    }
  } else if (e.body && typeof e.body === 'object') {
    text = (e.body as { message?: string }).message ?? text;
  }
  return e.code ? `${text} (HTTP ${e.code})` : text;
}

/** The HTTP status of an API error. */
export function errorCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}
