/**
 * Texts of the submit dialog.
 */
import type { IProfile } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/**
 * `gpu-1 — 8 CPU · 1 GPU · 32Gi — 0 of 2 free · 3 queued`; a profile of another resource says
 * which: `mig — 2 CPU · 1 nvidia.com/mig-1g.10gb · 8Gi — …`.
 */
export function profileLabel(
  profile: IProfile,
  trans: TranslationBundle = nbqueueBundle()
): string {
  const resource = profile.gpu_resource ?? 'nvidia.com/gpu';
  if (profile.gpus > 0 && resource !== 'nvidia.com/gpu')
    return trans.__(
      '%1 — %2 CPU · %3 %4 · %5 — %6 of %7 free · %8 queued',
      profile.name,
      profile.cpus,
      profile.gpus,
      resource,
      profile.memory,
      profile.free,
      profile.capacity,
      profile.queued
    );
  return trans.__(
    '%1 — %2 CPU · %3 GPU · %4 — %5 of %6 free · %7 queued',
    profile.name,
    profile.cpus,
    profile.gpus,
    profile.memory,
    profile.free,
    profile.capacity,
    profile.queued
  );
}
