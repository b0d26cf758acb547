/**
 * Texts of the submit dialog.
 */
import { PathExt } from '@jupyterlab/coreutils';

import type { IProfile } from '../service/model';

/** `gpu-1 — 8 CPU · 1 GPU · 32Gi — 0 of 2 free · 3 queued` */
export function profileLabel(profile: IProfile): string {
  return (
    `${profile.name} — ${profile.cpus} CPU · ${profile.gpus} GPU · ${profile.memory}` +
    ` — ${profile.free} of ${profile.capacity} free · ${profile.queued} queued`
  );
}

/** `train.ipynb 2026-11-23 14:05`, in local time. */
export function defaultJobName(path: string, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  return `${PathExt.basename(path)} ${date} ${time}`;
}
