/**
 * Texts of the submit dialog.
 */
import { PathExt } from '@jupyterlab/coreutils';

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

/** `train.ipynb 2026-11-23 14:05`, in local time. */
export function defaultJobName(path: string, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  return `${PathExt.basename(path)} ${date} ${time}`;
}
