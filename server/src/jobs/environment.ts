import type { CapturedEnvironment } from '../api/contract/schemas';
import type { Config } from '../config/schema';

/** What the runner is told about the environment (GET /api/runner/jobs/:id `environment`). */
export function runnerEnvironment(
  config: Config,
  captured: CapturedEnvironment | null | undefined
): {
  mode: 'kernel' | 'restore';
  captured: CapturedEnvironment | null;
  restore: Config['restore'];
} {
  const backend = config.backend as unknown as Record<
    string,
    { environment?: string } | undefined
  >;
  const configured = backend[config.backend.type]?.environment;
  // Without the kernel's own Python at hand (a cluster), restoring is the only way.
  const mode =
    configured === 'kernel' || configured === 'restore'
      ? configured
      : config.backend.type === 'local'
        ? 'kernel'
        : 'restore';
  return { mode, captured: captured ?? null, restore: config.restore };
}
