/** The API server connection: which cluster the sidecar talks to, and its errors in words. */
import * as https from 'https';
import {
  KubeConfig,
  RequestContext,
  ServerConfiguration,
  createConfiguration
} from '@kubernetes/client-node';
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

/**
 * An API client (CoreV1Api, BatchV1Api) whose calls share kept-alive connections: the
 * kubeconfig's own authentication gives each call a new agent, so a new TLS handshake, which
 * under a burst of admissions costs both the sidecar and the API server. Its agent is swapped
 * for one pooled per TLS setting (a proxy's agent is left as it is); its headers (the token,
 * read anew each call) are kept.
 */
export function pooledApiClient<T>(
  kc: KubeConfig,
  Api: new (config: ReturnType<typeof createConfiguration>) => T
): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig names no current cluster.');
  const agents = new Map<string, https.Agent>();
  const auth = {
    getName: () => 'nbqueue-pooled',
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await kc.applySecurityAuthentication(context);
      const made = context.getAgent();
      if (!(made instanceof https.Agent) || made.constructor !== https.Agent)
        return;
      const o = made.options;
      const key = JSON.stringify([
        String(o.ca ?? ''),
        String(o.cert ?? ''),
        String(o.key ?? ''),
        o.rejectUnauthorized,
        o.servername
      ]);
      let agent = agents.get(key);
      if (!agent) {
        // One setting at a time in practice: after a rotated certificate the old pool goes
        // (its calls in flight finish; its idle connections are closed by the API server).
        if (agents.size >= 4) agents.clear();
        agent = new https.Agent({ ...o, keepAlive: true });
        agents.set(key, agent);
      }
      context.setAgent(agent);
    }
  };
  return new Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: auth }
    })
  );
}
