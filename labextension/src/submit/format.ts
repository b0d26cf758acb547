/**
 * Texts of the submit dialog.
 */
import type { IProfile } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/** `gpu-1 — 8 CPU · 1 GPU · 32Gi — 0 of 2 free · 3 queued` */
export function profileLabel(
  profile: IProfile,
  trans: TranslationBundle = nbqueueBundle()
): string {
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
